package dev.strata.backup;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.regex.Pattern;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.TlsTrustManagersProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;

/**
 * Where an {@link S3Target} keeps its objects, parsed from {@code s3://BUCKET[/PREFIX][?endpoint=URL][&region=NAME]}.
 * The URL holds no secret: credentials come from the SDK's default chain, so a URL that tries to
 * carry one (user info in the endpoint, any unknown parameter) is refused rather than logged later.
 *
 * @param bucket the bucket, by S3's naming rules
 * @param prefix the key prefix inside the bucket, without leading or trailing '/'; empty for none
 * @param endpoint an S3-compatible server, or null for AWS itself
 * @param region the region as given, or null: then {@value #DEFAULT_REGION} (see {@link #signingRegion})
 */
record S3Location(String bucket, String prefix, URI endpoint, String region) {
    static final String SCHEME = "s3://";
    static final String DEFAULT_REGION = "us-east-1";
    /** System property: how long one request may take, as an ISO-8601 duration ({@code PT2M}, the default). */
    static final String ATTEMPT_TIMEOUT_PROPERTY = "strata.backup.s3AttemptTimeout";
    /**
     * A request to a server that stops reading it would otherwise wait forever: the HTTP client has no
     * timeout on a write, and a live server's kernel keeps the connection open. The longest request
     * carries 8 MiB (a pack, a ranged read), which two minutes allow at 70 KB/s.
     */
    private static final Duration ATTEMPT_TIMEOUT = Duration.ofMinutes(2);
    /** Times requests out for every client: each client would otherwise start threads of its own, kept until closed. */
    private static final ScheduledExecutorService TIMEOUTS = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "s3-request-timeouts");
        thread.setDaemon(true);
        return thread;
    });
    private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");
    private static final Pattern REGION = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");

    static boolean isS3(String url) {
        return url != null && url.startsWith(SCHEME);
    }

    static S3Location parse(String url) throws BackupException {
        if (!isS3(url)) {
            throw invalid(url, "not an s3:// URL");
        }
        String rest = url.substring(SCHEME.length());
        int question = rest.indexOf('?');
        String path = question < 0 ? rest : rest.substring(0, question);
        Map<String, String> query = query(url, question < 0 ? "" : rest.substring(question + 1));
        int slash = path.indexOf('/');
        String bucket = slash < 0 ? path : path.substring(0, slash);
        if (!BUCKET.matcher(bucket).matches()) {
            throw invalid(url, "no valid bucket (3 to 63 of [a-z0-9.-])");
        }
        String prefix = slash < 0 ? "" : stripTrailingSlash(path.substring(slash + 1));
        if (!prefix.isEmpty()) {
            try {
                TargetKeys.checkKey(prefix);
            } catch (BackupException e) {
                throw invalid(url, "the prefix " + e.getMessage());
            }
        }
        String region = query.get("region");
        if (region != null && !REGION.matcher(region).matches()) {
            throw invalid(url, "bad region '" + region + "'");
        }
        String endpoint = query.get("endpoint");
        return new S3Location(bucket, prefix, endpoint == null ? null : endpoint(url, endpoint), region);
    }

    /** The URL in one spelling for one location: no trailing '/', parameters in a fixed order. */
    String url() {
        StringBuilder url = new StringBuilder(SCHEME).append(bucket);
        if (!prefix.isEmpty()) {
            url.append('/').append(prefix);
        }
        String separator = "?";
        if (endpoint != null) {
            url.append(separator).append("endpoint=").append(endpoint);
            separator = "&";
        }
        if (region != null) {
            url.append(separator).append("region=").append(region);
        }
        return url.toString();
    }

    String signingRegion() {
        return region == null ? DEFAULT_REGION : region;
    }

    /**
     * A client for this location, on the JDK's HttpURLConnection (no Netty, no Apache HttpClient).
     * Nothing is sent until it is used. Over https it trusts {@code trust}'s CAs, or the JVM's when null.
     */
    S3Client newClient(AwsCredentialsProvider credentials, TlsTrustManagersProvider trust) {
        DefaultCrypto.install(); // over http:// the SDK hashes every byte it puts, over https:// TLS seals it
        UrlConnectionHttpClient.Builder http = UrlConnectionHttpClient.builder();
        if (trust != null) {
            http.tlsTrustManagersProvider(trust);
        }
        S3ClientBuilder builder = S3Client.builder()
                .httpClientBuilder(http)
                .region(Region.of(signingRegion()))
                .credentialsProvider(credentials)
                .overrideConfiguration(c -> c.apiCallAttemptTimeout(attemptTimeout()) // retried as any failure
                        .scheduledExecutorService(TIMEOUTS));
        if (endpoint != null) {
            // S3-compatible servers rarely resolve bucket names as host names (BUCKET.HOST): use HOST/BUCKET.
            // Many do not know the SDK's newer default either, a CRC trailer after an aws-chunked body, and
            // refuse every put (S3Proxy: XAmzContentSHA256Mismatch); checksums only where S3 demands them
            // lose nothing here: the payload is still signed, and every chunk and manifest carries its own hash.
            builder.endpointOverride(endpoint).forcePathStyle(true)
                    .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                    .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
        }
        return builder.build();
    }

    /** {@link #ATTEMPT_TIMEOUT}, or what {@value #ATTEMPT_TIMEOUT_PROPERTY} says (a test's server that stalls). */
    private static Duration attemptTimeout() {
        String set = System.getProperty(ATTEMPT_TIMEOUT_PROPERTY);
        return set == null ? ATTEMPT_TIMEOUT : Duration.parse(set);
    }

    /** The object key in the bucket for a target key. */
    String objectKey(String key) {
        return prefix.isEmpty() ? key : prefix + "/" + key;
    }

    private static Map<String, String> query(String url, String query) throws BackupException {
        Map<String, String> params = new LinkedHashMap<>();
        if (query.isEmpty()) {
            return params;
        }
        for (String pair : query.split("&", -1)) {
            int eq = pair.indexOf('=');
            String name = eq < 0 ? pair : pair.substring(0, eq);
            if (!name.equals("endpoint") && !name.equals("region")) {
                // never echo the value: an unknown parameter may be someone's secret key
                throw invalid(redactQuery(url), "unknown parameter '" + name + "' (only endpoint and region; "
                        + "credentials come from the environment or the shared credentials file)");
            }
            if (name.equals("endpoint") && eq >= 0 && (pair.indexOf('@', eq) >= 0
                    || pair.toLowerCase(Locale.ROOT).indexOf("%40", eq) >= 0)) {
                // user info ends in '@', raw or escaped: refused here, the one check, before a parse or a
                // decode could echo it (no other escape decodes to '@')
                throw invalid(redactQuery(url), "the endpoint holds credentials; they come from the environment "
                        + "or the shared credentials file, never the URL");
            }
            if (eq < 0 || params.put(name, decode(url, pair.substring(eq + 1))) != null) {
                throw invalid(url, "parameter " + name + " needs exactly one value");
            }
        }
        return params;
    }

    private static String decode(String url, String value) throws BackupException {
        try {
            return URLDecoder.decode(value, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw invalid(url, "bad %-escape in '" + value + "'");
        }
    }

    private static URI endpoint(String url, String value) throws BackupException {
        URI uri;
        try {
            uri = new URI(stripTrailingSlash(value));
        } catch (URISyntaxException e) {
            throw invalid(url, "bad endpoint: " + e.getMessage());
        }
        boolean http = "http".equals(uri.getScheme()) || "https".equals(uri.getScheme());
        if (!http || uri.getHost() == null || uri.getRawQuery() != null || uri.getRawFragment() != null
                || !uri.getRawPath().isEmpty()) {
            throw invalid(url, "bad endpoint '" + value + "': expected http(s)://HOST[:PORT]");
        }
        return uri;
    }

    private static String stripTrailingSlash(String value) {
        return value.endsWith("/") ? value.substring(0, value.length() - 1) : value;
    }

    private static String redactQuery(String url) {
        int question = url.indexOf('?');
        return question < 0 ? url : url.substring(0, question) + "?…";
    }

    private static BackupException invalid(String url, String why) {
        return new BackupException(BackupException.Kind.INVALID, "invalid backup target URL '" + url
                + "': " + why + "; expected s3://BUCKET[/PREFIX][?endpoint=http(s)://HOST[:PORT]][&region=NAME]");
    }
}
