package dev.strata.backup;

import java.security.NoSuchAlgorithmException;
import java.security.Provider;
import java.security.Security;
import java.util.List;
import java.util.Map;

/**
 * Makes the preferred {@link CryptoPrimitives}' SHA-256 and AES-GCM (NSS's, where the host has them)
 * the ones the whole JVM gets by name: a provider of those two algorithms, put first, whose services
 * hand out the preferred provider's own implementations. Every other algorithm keeps its provider.
 *
 * <p>Why: an S3 client's bytes pass through both, by name, under the driver's C1-only JIT, which has
 * none of the JDK's crypto intrinsics.
 * <ul>
 *   <li>SHA-256: the AWS SDK hashes every byte it uploads to an {@code http://} endpoint (SigV4 signs
 *       the payload there, and the SDK refuses to send it unsigned without TLS). The JDK's Java code
 *       runs at about 150 MB/s: a profile of a driver backing 1 GiB up to S3 had 69% of its Java
 *       samples in it.</li>
 *   <li>AES-GCM: TLS (JSSE) seals and opens every record of an {@code https://} endpoint with
 *       {@code Cipher.getInstance("AES/GCM/NoPadding")}, the JDK's Java code: a driver backed 1 GiB
 *       up to an S3 server over https in 49 s and restored it in 28 s, with NSS's in 19 s and 10 s
 *       (docs/benchmarks.md).</li>
 * </ul>
 *
 * <p>Installed by the first S3 client made; when the preferred primitives are the JDK's own there
 * is nothing to gain, and nothing is installed.
 */
final class DefaultCrypto {
    static final String PROVIDER = "StrataCrypto";
    static final String SHA_256 = "SHA-256";
    static final String AES_GCM = "AES/GCM/NoPadding";
    /** Each algorithm by its engine type: what an S3 client looks up by name on every byte's path. */
    private static final Map<String, String> ALGORITHMS = Map.of("MessageDigest", SHA_256, "Cipher", AES_GCM);

    private DefaultCrypto() {}

    /** Idempotent; returns whether the JVM's SHA-256 and AES-GCM are now the preferred primitives'. */
    static synchronized boolean install() {
        CryptoPrimitives crypto = CryptoPrimitives.preferred();
        if (Security.getProvider(PROVIDER) != null) {
            return true;
        }
        if (crypto == CryptoPrimitives.jdk()) {
            return false;
        }
        Security.insertProviderAt(new Preferred(crypto), 1);
        return true;
    }

    /**
     * Each service gives a new implementation of {@code crypto}'s provider (a digest's clones and a
     * cipher's parameters are then that provider's own), as this provider's.
     */
    private static final class Preferred extends Provider {
        private static final long serialVersionUID = 1L;

        Preferred(CryptoPrimitives crypto) {
            super(PROVIDER, "1", "SHA-256 and AES-GCM from " + crypto.name());
            ALGORITHMS.forEach((type, algorithm) -> {
                Service theirs = crypto.service(type, algorithm);
                putService(new Service(this, type, algorithm, theirs.getClassName(), List.of(), Map.of()) {
                    @Override
                    public Object newInstance(Object parameter) throws NoSuchAlgorithmException {
                        return theirs.newInstance(parameter);
                    }
                });
            });
        }
    }
}
