package dev.strata.backup;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.Provider;
import java.security.Security;
import java.util.Arrays;
import java.util.Locale;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a backup's SHA-256, HMAC-SHA256 and AES-GCM come from: Mozilla's NSS through the JDK's own
 * SunPKCS11 provider when the host has it, else the JDK's Java code.
 *
 * <p>Why: the driver runs with the C1 JIT only (issue 17's footprint), and C1 has none of the JDK's
 * crypto intrinsics, so SHA-256 runs at about 150 MB/s and AES-GCM at 40 MB/s, which made the hash
 * most of a restore's time. NSS uses the CPU's SHA and AES instructions: about 1.7 GB/s and 2.5 GB/s
 * on 1 MiB chunks, under C1 too. Debian's JRE depends on libnss3, so the image has it. Both give the
 * same bytes (standard algorithms); a known-answer check against the JDK guards each start anyway.
 *
 * <p>The system property {@code strata.backup.crypto} chooses: {@code auto} (the default: NSS when
 * it loads and passes the check, else the JDK's, saying why in the log) or {@code jdk}.
 */
final class CryptoPrimitives {
    static final String PROPERTY = "strata.backup.crypto";
    private static final Logger LOG = LoggerFactory.getLogger(CryptoPrimitives.class);
    private static final CryptoPrimitives JDK = new CryptoPrimitives(null, "the JDK's own");
    // the JDK's by their providers' names: once an S3 target is opened the JVM's defaults for SHA-256
    // and AES-GCM are NSS's (DefaultCrypto), and the JDK's own must stay the reference
    private static final String JDK_DIGESTS = "SUN";
    private static final String JDK_CIPHERS = "SunJCE";
    private static final String NSS_CONFIG = "--name=StrataNSS\nnssDbMode=noDb\nattributes=compatibility\n"
            + "handleStartupErrors=ignoreMultipleInitialisation\n";

    private final Provider provider; // null: the JDK's own providers, by name
    private final String name;

    private CryptoPrimitives(Provider provider, String name) {
        this.provider = provider;
        this.name = name;
    }

    /** The JDK's own Java code, available everywhere. */
    static CryptoPrimitives jdk() {
        return JDK;
    }

    /** What {@value #PROPERTY} chooses, decided once per process. */
    static CryptoPrimitives preferred() {
        return Preferred.CHOICE;
    }

    /**
     * NSS, loaded and checked against the JDK once per process (NSS is initialised once); throws
     * with the reason when it cannot be used.
     */
    static CryptoPrimitives nss() {
        if (Nss.LOADED == null) {
            throw new IllegalStateException(Nss.FAILURE);
        }
        return Nss.LOADED;
    }

    String name() {
        return name;
    }

    /** This' own implementation of one algorithm, for {@link DefaultCrypto}; the JDK's own have none to give. */
    Provider.Service service(String type, String algorithm) {
        if (provider == null) {
            throw new IllegalStateException("the JDK's own primitives are the JVM's defaults already");
        }
        Provider.Service service = provider.getService(type, algorithm);
        if (service == null) {
            throw new IllegalStateException(name + " has no " + type + " " + algorithm);
        }
        return service;
    }

    MessageDigest sha256() throws GeneralSecurityException {
        return provider == null ? MessageDigest.getInstance("SHA-256", JDK_DIGESTS)
                : MessageDigest.getInstance("SHA-256", provider);
    }

    Mac hmacSha256(SecretKey key) throws GeneralSecurityException {
        Mac mac = provider == null ? Mac.getInstance("HmacSHA256", JDK_CIPHERS)
                : Mac.getInstance("HmacSHA256", provider);
        mac.init(key);
        return mac;
    }

    Cipher aesGcm(int mode, SecretKey key, GCMParameterSpec spec) throws GeneralSecurityException {
        Cipher cipher = provider == null ? Cipher.getInstance("AES/GCM/NoPadding", JDK_CIPHERS)
                : Cipher.getInstance("AES/GCM/NoPadding", provider);
        cipher.init(mode, key, spec);
        return cipher;
    }

    /** Throws unless this gives exactly the bytes {@code reference} gives, for each primitive. */
    private void checkAgainst(CryptoPrimitives reference) {
        byte[] text = "strata known-answer check".repeat(100).getBytes(StandardCharsets.US_ASCII);
        SecretKey aes = new SecretKeySpec(Arrays.copyOf(text, 32), "AES");
        SecretKey hmac = new SecretKeySpec(Arrays.copyOfRange(text, 32, 64), "HmacSHA256");
        GCMParameterSpec nonce = new GCMParameterSpec(128, Arrays.copyOf(text, 12));
        try {
            boolean same = Arrays.equals(sha256().digest(text), reference.sha256().digest(text))
                    && Arrays.equals(hmacSha256(hmac).doFinal(text), reference.hmacSha256(hmac).doFinal(text));
            byte[] sealed = aesGcm(Cipher.ENCRYPT_MODE, aes, nonce).doFinal(text);
            same = same && Arrays.equals(sealed, reference.aesGcm(Cipher.ENCRYPT_MODE, aes, nonce).doFinal(text))
                    && Arrays.equals(text, aesGcm(Cipher.DECRYPT_MODE, aes, nonce).doFinal(sealed));
            if (!same) {
                throw new IllegalStateException(name + " gives other bytes than " + reference.name);
            }
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new IllegalStateException(name + " fails its known-answer check: " + e, e);
        }
    }

    private static final class Nss {
        static final String KEEP_NATIVE_KEYS = "sun.security.pkcs11.disableKeyExtraction";
        static final CryptoPrimitives LOADED;
        static final String FAILURE;

        static {
            CryptoPrimitives loaded = null;
            String failure = null;
            // SunPKCS11 keeps a key's bytes on the Java side between uses and makes a native key of
            // them again at each init: once per chunk hashed or sealed, a tenth of a backup's time.
            // The driver's keys are two per repository opened, so they may as well stay native.
            // Read once, when SunPKCS11's key class loads, which is after this line.
            if (System.getProperty(KEEP_NATIVE_KEYS) == null) {
                System.setProperty(KEEP_NATIVE_KEYS, "true");
            }
            try {
                loaded = new CryptoPrimitives(Security.getProvider("SunPKCS11").configure(NSS_CONFIG), "NSS (SunPKCS11)");
                loaded.checkAgainst(JDK);
            } catch (RuntimeException e) { // no SunPKCS11 (null), no libnss3 (ProviderException), a failed check
                loaded = null;
                failure = "NSS is not usable: " + e;
            }
            LOADED = loaded;
            FAILURE = failure;
        }
    }

    private static final class Preferred {
        static final CryptoPrimitives CHOICE = choose(System.getProperty(PROPERTY, "auto").toLowerCase(Locale.ROOT));

        private static CryptoPrimitives choose(String choice) {
            if (choice.equals("jdk")) {
                return logged(JDK);
            }
            if (!choice.equals("auto")) {
                LOG.warn("{} is '{}', neither auto nor jdk: taken as auto", PROPERTY, choice);
            }
            try {
                return logged(nss());
            } catch (IllegalStateException e) {
                LOG.info("{}", e.getMessage());
                return logged(JDK);
            }
        }

        private static CryptoPrimitives logged(CryptoPrimitives chosen) {
            LOG.info("backups hash and encrypt with {}", chosen.name);
            return chosen;
        }
    }
}
