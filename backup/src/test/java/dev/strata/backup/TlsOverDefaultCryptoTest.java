package dev.strata.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.strata.testkit.TestCertificate;
import java.io.DataInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.crypto.Cipher;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * TLS (JSSE, what the AWS SDK's https:// connections use) over the JVM's AES-GCM once
 * {@link DefaultCrypto} made it NSS's: every AES-GCM suite of TLS 1.3 and 1.2 carries bytes both
 * ways intact, on a real connection over loopback with a certificate keytool made.
 */
class TlsOverDefaultCryptoTest {
    private static final int BYTES = (4 << 20) + 123; // many full records and a short one

    @TempDir
    static Path tmp;
    private static SSLContext context;

    @BeforeAll
    static void aCertificateAndTheJvmsAesGcmFromNss() throws Exception {
        assumeTrue(CryptoPrimitives.preferred() != CryptoPrimitives.jdk(),
                "NSS is not usable here: TLS keeps the JDK's own AES-GCM, and nothing is installed");
        assertTrue(DefaultCrypto.install());
        assertEquals(DefaultCrypto.PROVIDER, Cipher.getInstance(DefaultCrypto.AES_GCM).getProvider().getName(),
                "JSSE asks for its record cipher by name");
        assumeTrue(Files.isExecutable(TestCertificate.keytool()),
                "no keytool in " + TestCertificate.keytool().getParent() + " to make a certificate with");
        TestCertificate certificate = TestCertificate.make(tmp, "localhost", "ip:127.0.0.1");
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(certificate.keyStore())) {
            keys.load(in, certificate.password().toCharArray());
        }
        KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keyManagers.init(keys, certificate.password().toCharArray());
        context = SSLContext.getInstance("TLS");
        context.init(keyManagers.getKeyManagers(), certificate.trustManagers(), null);
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
        "TLSv1.3, TLS_AES_128_GCM_SHA256",
        "TLSv1.3, TLS_AES_256_GCM_SHA384",
        "TLSv1.2, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "TLSv1.2, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    })
    void bytesCrossAConnectionBothWaysIntact(String protocol, String suite) throws Exception {
        byte[] sent = TestTrees.random(BYTES, suite.hashCode());
        try (SSLServerSocket server = (SSLServerSocket) context.getServerSocketFactory()
                .createServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            server.setEnabledProtocols(new String[] {protocol});
            server.setEnabledCipherSuites(new String[] {suite});
            CompletableFuture<Void> echo = CompletableFuture.runAsync(() -> echoOnce(server));
            try (SSLSocket client = (SSLSocket) context.getSocketFactory()
                    .createSocket(InetAddress.getLoopbackAddress(), server.getLocalPort())) {
                client.setEnabledProtocols(new String[] {protocol});
                client.setEnabledCipherSuites(new String[] {suite});
                CompletableFuture<Void> send = CompletableFuture.runAsync(() -> write(client, sent));
                byte[] back = new byte[BYTES];
                new DataInputStream(client.getInputStream()).readFully(back);
                send.get(60, TimeUnit.SECONDS);
                assertEquals(suite, client.getSession().getCipherSuite());
                assertArrayEquals(sent, back, "sealed by the client, opened and sealed again by the server, opened");
            }
            echo.get(60, TimeUnit.SECONDS);
        }
    }

    private static void echoOnce(SSLServerSocket server) {
        try (SSLSocket peer = (SSLSocket) server.accept()) {
            byte[] got = new byte[BYTES];
            new DataInputStream(peer.getInputStream()).readFully(got);
            OutputStream out = peer.getOutputStream();
            out.write(got);
            out.flush();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static void write(SSLSocket socket, byte[] bytes) {
        try {
            OutputStream out = socket.getOutputStream();
            out.write(bytes);
            out.flush();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
