package dev.strata.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The objects of the repository's deployment, read the way users apply them: deploy/manifests
 * through its kustomization (resources only, which is all it uses), the chart through Helm.
 * Every document becomes a typed fabric8 object, so a field the API does not know has nowhere to go.
 */
final class Manifests {
    static final Path REPO = Path.of("").toAbsolutePath().getParent();
    static final Path MANIFESTS = REPO.resolve("deploy/manifests");
    static final Path CHART = REPO.resolve("charts/strata");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private Manifests() {}

    /** Every object kubectl apply -k deploy/manifests would send. */
    static List<HasMetadata> kustomized() {
        List<HasMetadata> all = new ArrayList<>();
        collect(MANIFESTS, all);
        return all;
    }

    private static void collect(Path dir, List<HasMetadata> into) {
        JsonNode kustomization = read(dir.resolve("kustomization.yaml")).get(0);
        for (JsonNode resource : kustomization.path("resources")) {
            Path path = dir.resolve(resource.asText());
            if (Files.isDirectory(path)) {
                collect(path, into);
            } else {
                into.addAll(parse(readString(path)));
            }
        }
    }

    /** The YAML documents of a stream, as typed objects (empty documents skipped). */
    static List<HasMetadata> parse(String yaml) {
        List<HasMetadata> objects = new ArrayList<>();
        for (JsonNode doc : readAll(yaml)) {
            if (doc == null || doc.isNull() || doc.isEmpty()) {
                continue;
            }
            Object typed = "VolumeSnapshotClass".equals(doc.path("kind").asText())
                    ? typed(doc, VolumeSnapshotClass.class) : Serialization.unmarshal(doc.toString());
            if (!(typed instanceof HasMetadata object) || typed instanceof GenericKubernetesResource) {
                throw new AssertionError("not a known Kubernetes type (" + (typed == null ? null : typed.getClass()) + "): " + doc.path("apiVersion").asText() + " "
                        + doc.path("kind").asText());
            }
            objects.add(object);
        }
        return objects;
    }

    /** A type fabric8 does not register, read strictly (an unknown field fails). */
    private static <T> T typed(JsonNode doc, Class<T> type) {
        try {
            return new ObjectMapper().enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                    .treeToValue(doc, type);
        } catch (IOException e) {
            throw new AssertionError("not a valid " + type.getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    /** The objects by "Kind/namespace/name", as JSON trees for comparison. */
    static Map<String, JsonNode> byKey(List<HasMetadata> objects) {
        Map<String, JsonNode> byKey = new TreeMap<>();
        for (HasMetadata o : objects) {
            byKey.put(key(o), YAML.valueToTree(Serialization.unmarshal(Serialization.asJson(o), Map.class)));
        }
        return byKey;
    }

    static String key(HasMetadata o) {
        return o.getKind() + "/" + (o.getMetadata().getNamespace() == null ? "" : o.getMetadata().getNamespace())
                + "/" + o.getMetadata().getName();
    }

    static List<JsonNode> read(Path file) {
        return readAll(readString(file));
    }

    /** The documents of a YAML stream as they are (any kind). */
    static List<JsonNode> readAllDocuments(String yaml) {
        return readAll(yaml);
    }

    private static List<JsonNode> readAll(String yaml) {
        try (YAMLParser parser = new YAMLFactory().createParser(yaml)) {
            return YAML.readValues(parser, JsonNode.class).readAll();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String readString(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
