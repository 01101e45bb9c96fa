package dev.strata.testkit;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.List;
import java.util.Properties;
import javax.net.ssl.TrustManager;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;
import org.jclouds.filesystem.FilesystemApiMetadata;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A real S3 server in the test JVM, for tests of S3 backup targets (the backup module's, the
 * driver's, the real cluster's): S3Proxy on 127.0.0.1 (or another address of this host), checking
 * AWS v2/v4 signatures, storing objects in a directory through jclouds' filesystem blobstore, so
 * that a restart on the same port and directory finds everything it had.
 */
public final class S3Server implements AutoCloseable {
    public static final String ACCESS_KEY = "strata-test-access";
    public static final String SECRET_KEY = "strata-test-secret-0123456789";
    public static final AwsCredentialsProvider CREDENTIALS =
            StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY));

    private static final String LOOPBACK = "127.0.0.1";

    private final Path dir;
    /** The address it listens on and its URLs name. */
    private final String host;
    /** A PKCS#12 key store with the server's certificate and its password: https instead of http. */
    private final Path keyStore;
    private final String keyStorePassword;
    private int port;
    private S3Proxy proxy;
    private BlobStoreContext context;
    private S3Client sdk;

    private S3Server(Path dir, String host, Path keyStore, String keyStorePassword) {
        this.dir = dir;
        this.host = host;
        this.keyStore = keyStore;
        this.keyStorePassword = keyStorePassword;
    }

    /** A change that {@link #close} undoes, without a checked exception. */
    public interface Undo extends AutoCloseable {
        @Override
        void close();
    }

    /** The servers' keys as the AWS SDK's default credentials ({@link #defaultCredentials}). */
    public static Undo keysAsDefaultCredentials() {
        return defaultCredentials(ACCESS_KEY, SECRET_KEY);
    }

    /**
     * Makes these the AWS SDK's default credentials in this JVM (its system properties, as a driver in
     * this JVM finds them) until closed; then they are as they were.
     */
    public static Undo defaultCredentials(String accessKeyId, String secretAccessKey) {
        String id = System.getProperty("aws.accessKeyId");
        String secret = System.getProperty("aws.secretAccessKey");
        System.setProperty("aws.accessKeyId", accessKeyId);
        System.setProperty("aws.secretAccessKey", secretAccessKey);
        return () -> {
            restore("aws.accessKeyId", id);
            restore("aws.secretAccessKey", secret);
        };
    }

    private static void restore(String property, String value) {
        if (value == null) {
            System.clearProperty(property);
        } else {
            System.setProperty(property, value);
        }
    }

    /** Starts a server on a free port, keeping its buckets under {@code dir}. */
    public static S3Server start(Path dir) throws Exception {
        S3Server server = new S3Server(dir, LOOPBACK, null, null);
        server.startOn(0);
        return server;
    }

    /** The same over https, with this certificate (which {@link #sdk} trusts). */
    public static S3Server startHttps(Path dir, TestCertificate certificate) throws Exception {
        return startHttps(dir, certificate, LOOPBACK);
    }

    /**
     * The same on {@code host}, an IPv4 address of this machine that its clients reach (the real
     * cluster's pods: the gateway of their network), which the certificate must name.
     */
    public static S3Server startHttps(Path dir, TestCertificate certificate, String host) throws Exception {
        S3Server server = new S3Server(dir, host, certificate.keyStore(), certificate.password());
        server.startOn(0);
        return server;
    }

    private void startOn(int wanted) throws Exception {
        Properties properties = new Properties();
        properties.setProperty("jclouds.filesystem.basedir", dir.toString());
        // by its metadata, not its name: a lookup by name loads every provider in S3Proxy's jar,
        // azureblob too, whose jclouds module is left out (pom.xml)
        context = ContextBuilder.newBuilder(new FilesystemApiMetadata()).credentials("unused", "unused").overrides(properties)
                .build(BlobStoreContext.class);
        S3Proxy.Builder builder = S3Proxy.builder().blobStore(context.getBlobStore())
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY);
        proxy = (keyStore == null ? builder.endpoint(URI.create("http://" + host + ":" + wanted))
                : builder.secureEndpoint(URI.create("https://" + host + ":" + wanted))
                        .keyStore(keyStore.toString(), keyStorePassword)).build();
        proxy.start();
        for (int i = 0; i < 500 && !"STARTED".equals(proxy.getState()); i++) {
            Thread.sleep(10);
        }
        port = keyStore == null ? proxy.getPort() : proxy.getSecurePort();
    }

    /** Stops the server; {@link #restart} brings it back on the same port and directory. */
    public void stop() throws Exception {
        proxy.stop();
        context.close();
    }

    public void restart() throws Exception {
        startOn(port);
    }

    public String endpoint() {
        return (keyStore == null ? "http" : "https") + "://" + host + ":" + port;
    }

    /** {@code s3://BUCKET[/PREFIX]?endpoint=…} for this server. */
    public String url(String bucket, String prefix) {
        return "s3://" + bucket + (prefix.isEmpty() ? "" : "/" + prefix) + "?endpoint=" + endpoint();
    }

    /** A plain SDK client, for what a target cannot do: create buckets, tamper with objects. */
    public S3Client sdk() {
        if (sdk == null) {
            UrlConnectionHttpClient.Builder http = UrlConnectionHttpClient.builder();
            if (keyStore != null) {
                TrustManager[] own = ownCertificate();
                http.tlsTrustManagersProvider(() -> own);
            }
            sdk = S3Client.builder().httpClientBuilder(http)
                    .region(Region.US_EAST_1).credentialsProvider(CREDENTIALS)
                    .endpointOverride(URI.create(endpoint())).forcePathStyle(true)
                    .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED) // as S3Target does
                    .build();
        }
        return sdk;
    }

    private TrustManager[] ownCertificate() {
        try {
            return TestCertificate.trustManagers(keyStore, keyStorePassword);
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot read the server's key store " + keyStore, e);
        }
    }

    /**
     * The keys in {@code bucket} under {@code prefix}, sorted, straight from the server, without the
     * directories that jclouds' filesystem store lists as objects ending in '/'.
     */
    public List<String> keys(String bucket, String prefix) {
        return sdk().listObjectsV2Paginator(b -> b.bucket(bucket).prefix(prefix)).contents().stream()
                .map(o -> o.key()).filter(k -> !k.endsWith("/")).sorted().toList();
    }

    public String createBucket(String bucket) {
        sdk().createBucket(b -> b.bucket(bucket));
        return bucket;
    }

    /**
     * Runs a server for a benchmark script until it is killed: {@code S3Server DIR PORT BUCKET...}
     * keeps objects under DIR, listens on 127.0.0.1:PORT with {@link #ACCESS_KEY}/{@link #SECRET_KEY},
     * makes the buckets, and prints its endpoint. With the system property {@code s3server.keystore}
     * (a PKCS#12 key store holding the server's key and certificate, its password in {@code
     * s3server.keystore.password}) it speaks https.
     */
    public static void main(String[] args) throws Exception {
        String keyStore = System.getProperty("s3server.keystore");
        S3Server server = new S3Server(Path.of(args[0]), LOOPBACK, keyStore == null ? null : Path.of(keyStore),
                System.getProperty("s3server.keystore.password"));
        server.startOn(Integer.parseInt(args[1]));
        for (int i = 2; i < args.length; i++) {
            server.createBucket(args[i]);
        }
        System.out.println("s3 server at " + server.endpoint());
        Thread.currentThread().join();
    }

    @Override
    public void close() throws Exception {
        if (sdk != null) {
            sdk.close();
        }
        if (proxy != null && !"STOPPED".equals(proxy.getState())) {
            stop();
        }
    }
}
