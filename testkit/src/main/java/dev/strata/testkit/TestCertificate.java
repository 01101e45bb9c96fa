package dev.strata.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.List;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/**
 * A self-signed certificate and its key that the JDK's keytool made, for servers that speak TLS in
 * tests: a PKCS#12 key store, its password, and the certificate as PEM (what a client is told to
 * trust). Valid for a day, for the names in {@code san} (keytool's form: {@code ip:127.0.0.1},
 * {@code dns:example.test}).
 */
public record TestCertificate(Path keyStore, String password, String pem) {
    private static final String PASSWORD = "strata-test";

    /** Where keytool is: beside the running JVM. */
    public static Path keytool() {
        return Path.of(System.getProperty("java.home"), "bin", "keytool");
    }

    /** Makes {@code NAME.p12} in {@code dir}; fails when keytool does (check {@link #keytool} first). */
    public static TestCertificate make(Path dir, String name, String san) throws IOException, InterruptedException {
        Path store = dir.resolve(name + ".p12");
        keytool("-genkeypair", "-alias", name, "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=" + name,
                "-ext", "san=" + san, "-validity", "1", "-storetype", "PKCS12", "-keystore", store.toString(),
                "-storepass", PASSWORD);
        String pem = keytool("-exportcert", "-rfc", "-alias", name, "-keystore", store.toString(), "-storepass",
                PASSWORD);
        return new TestCertificate(store, PASSWORD, pem);
    }

    /** Trust managers that trust this certificate alone. */
    public TrustManager[] trustManagers() throws IOException, GeneralSecurityException {
        return trustManagers(keyStore, password);
    }

    /** Trust managers that trust the certificates of a PKCS#12 key store alone. */
    public static TrustManager[] trustManagers(Path keyStore, String password)
            throws IOException, GeneralSecurityException {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keyStore)) {
            keys.load(in, password.toCharArray());
        }
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(keys); // a key entry's certificate is trusted as well
        return trust.getTrustManagers();
    }

    private static String keytool(String... args) throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of(keytool().toString()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        if (process.waitFor() != 0) {
            throw new IOException("keytool " + args[0] + " failed: " + output);
        }
        return output;
    }
}
