package dev.strata.backup;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import java.util.function.UnaryOperator;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import software.amazon.awssdk.http.TlsTrustManagersProvider;

/**
 * The CAs an https S3 endpoint's certificate must chain to, for servers under a private CA (MinIO,
 * Ceph's gateway, an appliance): PEM certificates under {@value BackupSecrets#CA_CERT}, from the
 * call's secrets, else from the process's environment (where the node plugin's Secret puts them, as
 * Longhorn's does). Given, they are the only CAs trusted for that target, not added to the JVM's:
 * a bundle names the servers a tenant means, and nothing else can stand in for them. Not given, the
 * JVM's trust store serves, as for AWS itself. Host names are checked either way.
 */
final class S3Trust {
    private S3Trust() {}

    /** The trust for a target opened with these secrets, or null for the JVM's own; bad PEM is INVALID. */
    static TlsTrustManagersProvider of(BackupSecrets secrets) throws BackupException {
        return of(secrets, System::getenv);
    }

    /** As above, with the process's environment as {@code environment} gives it (tests give their own). */
    static TlsTrustManagersProvider of(BackupSecrets secrets, UnaryOperator<String> environment)
            throws BackupException {
        if (secrets.caCert() != null) {
            return parse(secrets.caCert(), "secret " + BackupSecrets.CA_CERT);
        }
        String variable = environment.apply(BackupSecrets.CA_CERT);
        return variable == null || variable.isBlank() ? null
                : parse(variable, "environment variable " + BackupSecrets.CA_CERT);
    }

    static TlsTrustManagersProvider parse(String pem, String source) throws BackupException {
        Collection<? extends Certificate> certificates;
        try {
            certificates = CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
        } catch (CertificateException e) {
            throw new BackupException(BackupException.Kind.INVALID, source + " is not PEM certificates: "
                    + e.getMessage());
        }
        if (certificates.isEmpty()) {
            throw new BackupException(BackupException.Kind.INVALID, source + " holds no certificate");
        }
        try {
            KeyStore anchors = KeyStore.getInstance("PKCS12");
            anchors.load(null, null);
            int i = 0;
            for (Certificate certificate : certificates) {
                anchors.setCertificateEntry("ca-" + i++, certificate);
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(anchors);
            TrustManager[] managers = factory.getTrustManagers();
            return managers::clone;
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new IllegalStateException("the JVM cannot hold trusted certificates", e);
        }
    }

    /** Whether a failure was the server's certificate not chaining to a trusted CA. */
    static boolean untrusted(Throwable failure) {
        for (Throwable t = failure; t != null && t.getCause() != t; t = t.getCause()) {
            if (t instanceof CertPathBuilderException || t instanceof CertPathValidatorException) {
                return true;
            }
        }
        return false;
    }
}
