package dev.strata.backup;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.NoSuchFileException;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.Set;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.TlsTrustManagersProvider;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * A {@link BackupTarget} in an S3 bucket (AWS or any S3-compatible server), opened from
 * {@code s3://BUCKET[/PREFIX][?endpoint=http(s)://HOST[:PORT]][&region=NAME]} (see {@link S3Location}):
 * key K is the object PREFIX/K. S3 itself makes each PutObject atomic, and reads see the latest write.
 *
 * <p>Credentials never come from the URL: a caller's {@link BackupSecrets} give them, else the SDK's
 * default chain does: the environment
 * ({@code AWS_ACCESS_KEY_ID}, {@code AWS_SECRET_ACCESS_KEY}), the system properties
 * {@code aws.accessKeyId}/{@code aws.secretAccessKey}, or the shared credentials file
 * ({@code ~/.aws/credentials}, or {@code AWS_SHARED_CREDENTIALS_FILE}).
 *
 * <p>Each target makes its one {@link S3Client} on first use and never closes it: the client runs on
 * the JDK's {@code HttpURLConnection}, whose connections the JDK pools and reaps, and starts no thread
 * of its own, so an unreferenced target leaves nothing behind for the garbage collector to miss.
 */
public final class S3Target implements BackupTarget {
    /** S3's own upper bound for one ListObjectsV2 page. */
    static final int MAX_PAGE = 1000;
    /** Covers a chunk of the default chunker (4 MiB at most) whole; bigger objects grow as they arrive. */
    private static final int FIRST_READ_BYTES = 8 << 20;
    private static final byte[] NO_BUFFER = new byte[0];
    private static final int PRECONDITION_FAILED = 412;
    private static final int CONFLICT = 409;
    private static final int NOT_IMPLEMENTED = 501;
    private static final Set<String> REFUSED = Set.of("AccessDenied", "InvalidAccessKeyId",
            "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken", "AuthorizationHeaderMalformed");

    private final S3Location location;
    private final AwsCredentialsProvider credentials;
    private final TlsTrustManagersProvider trust;
    private final int pageSize;
    private S3Client client;
    private volatile boolean bucketChecked;
    /** Set once the server answers a conditional put with 501: from then on putIfAbsent is not atomic. */
    private volatile boolean noConditionalPuts;

    /** Tests pass their own credentials; null means the SDK's default chain. */
    S3Target(S3Location location, AwsCredentialsProvider credentials, int pageSize) {
        this(location, credentials, null, pageSize);
    }

    /** As above, trusting only {@code trust}'s CAs over https (null: the JVM's trust store). */
    S3Target(S3Location location, AwsCredentialsProvider credentials, TlsTrustManagersProvider trust, int pageSize) {
        if (pageSize < 1 || pageSize > MAX_PAGE) {
            throw new IllegalArgumentException("page size " + pageSize);
        }
        this.location = location;
        this.credentials = credentials;
        this.trust = trust;
        this.pageSize = pageSize;
    }

    /**
     * Opens {@code s3://…} with the secrets' credentials, or the default chain when they have none;
     * nothing is sent until the first call. A malformed URL is INVALID.
     */
    static S3Target open(String url, BackupSecrets secrets) throws BackupException {
        return new S3Target(S3Location.parse(url), credentials(secrets), S3Trust.of(secrets), MAX_PAGE);
    }

    private static AwsCredentialsProvider credentials(BackupSecrets secrets) {
        if (secrets.accessKeyId() == null) {
            return null;
        }
        return StaticCredentialsProvider.create(secrets.sessionToken() == null
                ? AwsBasicCredentials.create(secrets.accessKeyId(), secrets.secretAccessKey())
                : AwsSessionCredentials.create(secrets.accessKeyId(), secrets.secretAccessKey(),
                        secrets.sessionToken()));
    }

    @Override
    public String url() {
        return location.url();
    }

    @Override
    public boolean packsEveryChunk() {
        return true;
    }

    @Override
    public void put(String key, byte[] data) throws IOException {
        putBuffered(key, ByteBuffer.wrap(data));
    }

    /** Every put is durable; this one streams from the caller's buffer ({@code fromBytes} would copy it). */
    @Override
    public void putBuffered(String key, ByteBuffer data) throws IOException {
        String object = objectKey(key);
        byte[] array = data.array();
        int offset = data.arrayOffset() + data.position();
        int length = data.remaining();
        RequestBody body = RequestBody.fromContentProvider(() -> new ByteArrayInputStream(array, offset, length),
                length, "application/octet-stream");
        call("write", key, s3 -> s3.putObject(b -> b.bucket(location.bucket()).key(object), body));
    }

    @Override
    public byte[] get(String key) throws IOException {
        ByteBuffer body = get(key, NO_BUFFER);
        return body.remaining() == body.array().length ? body.array() : Arrays.copyOf(body.array(), body.remaining());
    }

    @Override
    public ByteBuffer get(String key, byte[] reuse) throws IOException {
        String object = objectKey(key);
        return call("read", key, s3 -> s3.getObject(b -> b.bucket(location.bucket()).key(object),
                (response, body) -> readBody(response, body, reuse)));
    }

    @Override
    public ByteBuffer getRange(String key, long offset, int length, byte[] reuse) throws IOException {
        String object = objectKey(key);
        String range = "bytes=" + offset + "-" + (offset + length - 1);
        try {
            return call("read", key, s3 -> s3.getObject(b -> b.bucket(location.bucket()).key(object).range(range),
                    (response, body) -> readRange(key, body, length, reuse)));
        } catch (IOException e) {
            // a range that starts past the end (416), or a body that ends early (the SDK wraps what readRange throws)
            for (Throwable cause = e.getCause(); cause != null; cause = cause.getCause()) {
                if (cause instanceof EOFException || cause instanceof S3Exception s3 && s3.statusCode() == 416) {
                    throw (EOFException) new EOFException(key + " ends before " + offset + "+" + length).initCause(e);
                }
            }
            throw e;
        }
    }

    /** Exactly {@code length} bytes of a range's body: fewer mean the object ends before the range does. */
    private static ByteBuffer readRange(String key, InputStream body, int length, byte[] reuse) throws IOException {
        byte[] into = length <= reuse.length ? reuse : new byte[length];
        int read = body.readNBytes(into, 0, length);
        if (read < length || body.read() >= 0) {
            throw new EOFException(key + ": a range of " + length + " bytes answered with " + (read < length ? read
                    : "more") + " bytes");
        }
        return ByteBuffer.wrap(into, 0, length);
    }

    /**
     * The body into {@code reuse} or one new array of the announced length. The SDK's own
     * {@code getObjectAsBytes} grows a ByteArrayOutputStream and copies it once more: four times a
     * chunk's size in garbage. A length the server cannot be trusted with is allocated only up to
     * {@link #FIRST_READ_BYTES}, the rest as it arrives.
     */
    private static ByteBuffer readBody(GetObjectResponse response, InputStream body, byte[] reuse) throws IOException {
        Long announced = response.contentLength();
        int first = announced == null ? 0 : (int) Math.min(Math.max(announced, 0), FIRST_READ_BYTES);
        byte[] head = first <= reuse.length ? reuse : new byte[first];
        int read = body.readNBytes(head, 0, first);
        if (read < first) {
            throw new IOException("the object ended after " + read + " of its " + announced + " bytes");
        }
        byte[] rest = body.readAllBytes();
        if (rest.length == 0) {
            return ByteBuffer.wrap(head, 0, read);
        }
        byte[] whole = Arrays.copyOf(head, Math.addExact(read, rest.length));
        System.arraycopy(rest, 0, whole, read, rest.length);
        return ByteBuffer.wrap(whole);
    }

    @Override
    public boolean exists(String key) throws IOException {
        try {
            head(key);
            return true;
        } catch (NoSuchFileException e) {
            return false;
        }
    }

    @Override
    public SortedMap<String, Long> listWithSizes(String prefix) throws IOException {
        TargetKeys.checkPrefix(prefix);
        // the bucket holds PREFIX/KEY; with no target prefix a key is the whole object key
        int strip = location.prefix().isEmpty() ? 0 : location.prefix().length() + 1;
        String objectPrefix = location.prefix().isEmpty() ? prefix : location.prefix() + "/" + prefix;
        SortedMap<String, Long> keys = new TreeMap<>(); // S3 lists in UTF-8 byte order; the keys are ASCII
        call("list", prefix + "*", s3 -> {
            for (S3Object object : s3.listObjectsV2Paginator(b -> b.bucket(location.bucket())
                    .prefix(objectPrefix).maxKeys(pageSize)).contents()) {
                String key = object.key().substring(strip);
                if (TargetKeys.isValid(key)) { // another tool's objects under the prefix are not ours to show
                    keys.put(key, object.size());
                }
            }
            return null;
        });
        return keys;
    }

    @Override
    public List<String> list(String prefix) throws IOException {
        return List.copyOf(listWithSizes(prefix).keySet());
    }

    @Override
    public Instant modified(String key) throws IOException {
        return head(key).lastModified();
    }

    @Override
    public long size(String key) throws IOException {
        return head(key).contentLength();
    }

    @Override
    public void delete(String key) throws IOException {
        String object = objectKey(key);
        // S3 answers a delete of a missing key with success too
        call("delete", key, s3 -> s3.deleteObject(b -> b.bucket(location.bucket()).key(object)));
    }

    /**
     * Exclusive through {@code If-None-Match: *}: of two racing writers exactly one creates the key.
     * A server that does not implement it (501) gets exists-then-put, which two writers initialising
     * the same new repository at the same moment can both pass: the later config then wins and the
     * earlier writer's first backup is unreadable. Only a repository's creation takes that risk.
     * Some servers neither implement the header nor refuse it (S3Proxy 2.6 overwrites): the HEAD
     * first keeps them from replacing a key that is already there, leaving them only that race too.
     */
    @Override
    public boolean putIfAbsent(String key, byte[] data) throws IOException {
        String object = objectKey(key);
        if (exists(key)) {
            return false;
        }
        if (!noConditionalPuts) {
            try {
                client().putObject(b -> b.bucket(location.bucket()).key(object).ifNoneMatch("*"),
                        RequestBody.fromBytes(data));
                return true;
            } catch (S3Exception e) {
                // 409: another conditional write of the key is in flight, and it is the one that will land
                if (e.statusCode() == PRECONDITION_FAILED || e.statusCode() == CONFLICT) {
                    return false;
                }
                if (e.statusCode() != NOT_IMPLEMENTED && !"NotImplemented".equals(errorCode(e))) {
                    throw failure("create", key, e);
                }
                noConditionalPuts = true;
            } catch (SdkException e) {
                throw failure("create", key, e);
            }
        }
        put(key, data);
        return true;
    }

    @Override
    public String toString() {
        return url();
    }

    private HeadObjectResponse head(String key) throws IOException {
        String object = objectKey(key);
        return call("look up", key, s3 -> s3.headObject(b -> b.bucket(location.bucket()).key(object)));
    }

    private String objectKey(String key) throws BackupException {
        return location.objectKey(TargetKeys.checkKey(key));
    }

    /** One request to S3, its SDK exceptions mapped to IOExceptions by {@link #failure}. */
    private <T> T call(String action, String key, SdkCall<T> call) throws IOException {
        S3Client s3 = client();
        try {
            return call.run(s3);
        } catch (SdkException e) {
            throw failure(action, key, e);
        }
    }

    @FunctionalInterface
    private interface SdkCall<T> {
        T run(S3Client s3);
    }

    /**
     * The client, made on first use. Its first use checks the bucket (HEAD): a HEAD of a missing object
     * and of a missing bucket both answer a bare 404, and a missing bucket must not read as an empty target.
     */
    private S3Client client() throws IOException {
        S3Client s3;
        synchronized (this) {
            if (client == null) {
                client = location.newClient(credentials != null ? credentials
                        : DefaultCredentialsProvider.builder().build(), trust);
            }
            s3 = client;
        }
        if (!bucketChecked) {
            try {
                s3.headBucket(b -> b.bucket(location.bucket()));
            } catch (SdkException e) {
                throw failure("open bucket", null, e);
            }
            bucketChecked = true;
        }
        return s3;
    }

    /** Every SDK exception becomes an IOException here, naming the URL (which holds no secret). */
    private IOException failure(String action, String key, SdkException e) {
        String what = key == null ? url() : key + " in " + url();
        if (e instanceof NoSuchBucketException || "NoSuchBucket".equals(errorCode(e))) {
            bucketChecked = false;
            return new BackupException(BackupException.Kind.NOT_FOUND,
                    "the bucket " + location.bucket() + " of " + url() + " does not exist", e);
        }
        if (key != null && (e instanceof NoSuchKeyException || statusCode(e) == 404)) {
            NoSuchFileException missing = new NoSuchFileException(key, null, "no such object in " + url());
            missing.initCause(e);
            return missing;
        }
        if (e instanceof S3Exception s3 && (s3.statusCode() == 403 || REFUSED.contains(errorCode(e)))) {
            return new IOException(url() + " refused to " + action + " " + what + ": " + describe(s3)
                    + "; check the credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, the shared credentials "
                    + "file) and the bucket's policy", e);
        }
        if (e instanceof S3Exception s3) {
            return new IOException("cannot " + action + " " + what + ": " + describe(s3), e);
        }
        if (S3Trust.untrusted(e)) {
            return new IOException("cannot " + action + " " + what + ": the server's certificate is not trusted ("
                    + rootMessage(e) + "); give the CAs it chains to as " + BackupSecrets.CA_CERT
                    + " (PEM, in the class's secret or the node's environment)", e);
        }
        // no answer at all: unreachable endpoint, timeout, or no credentials to sign with
        return new IOException("cannot " + action + " " + what + ": " + rootMessage(e), e);
    }

    private static String describe(S3Exception e) {
        String code = errorCode(e);
        return "HTTP " + e.statusCode() + (code.isEmpty() ? "" : " " + code)
                + (e.awsErrorDetails() != null && e.awsErrorDetails().errorMessage() != null
                        ? " (" + e.awsErrorDetails().errorMessage() + ")" : "");
    }

    private static int statusCode(SdkException e) {
        return e instanceof S3Exception s3 ? s3.statusCode() : 0;
    }

    private static String errorCode(SdkException e) {
        if (e instanceof S3Exception s3 && s3.awsErrorDetails() != null && s3.awsErrorDetails().errorCode() != null) {
            return s3.awsErrorDetails().errorCode();
        }
        return "";
    }

    /** The innermost cause says what happened: "ConnectException: Connection refused", an unknown host. */
    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root == e ? e.getMessage() : root.getClass().getSimpleName() + ": " + root.getMessage();
    }
}
