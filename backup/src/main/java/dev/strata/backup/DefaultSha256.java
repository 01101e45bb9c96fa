package dev.strata.backup;

import java.nio.ByteBuffer;
import java.security.DigestException;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.MessageDigestSpi;
import java.security.NoSuchAlgorithmException;
import java.security.Provider;
import java.security.Security;
import java.util.List;
import java.util.Map;

/**
 * Makes the preferred {@link CryptoPrimitives}' SHA-256 (NSS's, where the host has it) the one the
 * whole JVM gets by name, {@code MessageDigest.getInstance("SHA-256")}: a provider of that one
 * algorithm, put first. Every other algorithm keeps its provider.
 *
 * <p>Why: the AWS SDK hashes every byte it uploads to an {@code http://} endpoint (SigV4 signs the
 * payload there, and the SDK refuses to send it unsigned without TLS), with the JVM's default
 * SHA-256. That is the JDK's Java code, about 150 MB/s under the driver's C1-only JIT: a profile of
 * a driver backing 1 GiB up to S3 had 69% of its Java samples in it (docs/benchmarks.md).
 *
 * <p>Installed by the first S3 client made; when the preferred primitives are the JDK's own there
 * is nothing to gain, and nothing is installed.
 */
final class DefaultSha256 {
    static final String PROVIDER = "StrataSHA256";
    static final String ALGORITHM = "SHA-256";

    private DefaultSha256() {}

    /** Idempotent; returns whether the JVM's SHA-256 is now the preferred primitives'. */
    static synchronized boolean install() {
        CryptoPrimitives crypto = CryptoPrimitives.preferred();
        if (Security.getProvider(PROVIDER) != null) {
            return true;
        }
        if (crypto == CryptoPrimitives.jdk()) {
            return false;
        }
        Security.insertProviderAt(new OneDigest(crypto), 1);
        return true;
    }

    /** A provider of SHA-256 alone, each instance a new digest of {@code crypto}'s. */
    private static final class OneDigest extends Provider {
        private static final long serialVersionUID = 1L;

        OneDigest(CryptoPrimitives crypto) {
            super(PROVIDER, "1", "SHA-256 from " + crypto.name());
            putService(new Service(this, "MessageDigest", ALGORITHM, Delegating.class.getName(), List.of(),
                    Map.of()) {
                @Override
                public Object newInstance(Object unused) throws NoSuchAlgorithmException {
                    try {
                        return new Delegating(crypto.sha256());
                    } catch (GeneralSecurityException e) {
                        throw new NoSuchAlgorithmException(crypto.name() + " has no SHA-256", e);
                    }
                }
            });
        }
    }

    /** A digest of another provider's, as this provider's; clonable when that one is. */
    private static final class Delegating extends MessageDigestSpi implements Cloneable {
        private MessageDigest digest;

        Delegating(MessageDigest digest) {
            this.digest = digest;
        }

        @Override
        protected int engineGetDigestLength() {
            return digest.getDigestLength();
        }

        @Override
        protected void engineUpdate(byte input) {
            digest.update(input);
        }

        @Override
        protected void engineUpdate(byte[] input, int offset, int length) {
            digest.update(input, offset, length);
        }

        @Override
        protected void engineUpdate(ByteBuffer input) {
            digest.update(input);
        }

        @Override
        protected byte[] engineDigest() {
            return digest.digest();
        }

        @Override
        protected int engineDigest(byte[] into, int offset, int length) throws DigestException {
            return digest.digest(into, offset, length);
        }

        @Override
        protected void engineReset() {
            digest.reset();
        }

        @Override
        public Object clone() throws CloneNotSupportedException {
            Delegating copy = (Delegating) super.clone();
            copy.digest = (MessageDigest) digest.clone();
            return copy;
        }
    }
}
