package io.splitfed.model.io;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.splitfed.model.data.DataFormatException;
import io.splitfed.model.data.GlueTsvReader;
import io.splitfed.model.data.JsonDataReader;
import io.splitfed.model.testing.RandomGpt2;
import io.splitfed.model.testing.SharedData;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/** Bad files fail with an error that names the file and the line or field, never with garbage. */
class MalformedInputTest {

    @TempDir
    Path tmp;

    @Test
    void tsvRowWithAMissingColumn() throws Exception {
        Path f = tmp.resolve("train.tsv");
        Files.writeString(f, "sentence\tlabel\na fine film\t1\nno label here\n");
        assertThatThrownBy(() -> GlueTsvReader.read(f))
                .isInstanceOf(DataFormatException.class)
                .hasMessageContaining(f + ":3:")
                .hasMessageContaining("expected 2 tab-separated columns (sentence, label) but found 1");
    }

    @Test
    void labelOutOfRange() throws Exception {
        Path f = tmp.resolve("sst.tsv");
        Files.writeString(f, "sentence\tlabel\ngood\t1\nbad\t0\nodd\t7\n");
        assertThatThrownBy(() -> GlueTsvReader.read(f))
                .isInstanceOf(DataFormatException.class)
                .hasMessageContaining(f + ":4:")
                .hasMessageContaining("field 'label' = 7 is not a label of SST2");
        Path mnli = tmp.resolve("mnli.json");
        Files.writeString(mnli, "{\"0\": {\"text_a\": \"a\", \"text_b\": \"b\", \"label\": \"maybe\"}}");
        assertThatThrownBy(() -> JsonDataReader.readMnliJson(mnli))
                .hasMessageContaining(mnli.toString())
                .hasMessageContaining("entry \"0\" field label = \"maybe\"");
        Path gsm = tmp.resolve("gsm.jsonl");
        Files.writeString(gsm, "{\"question\": \"1+1?\", \"answer\": \"2\"}\n");
        assertThatThrownBy(() -> JsonDataReader.readGsm8k(gsm)).hasMessageContaining(gsm + ":1:").hasMessageContaining("####");
    }

    @Test
    void safetensorsHeaderWhoseOffsetsLie() throws Exception {
        Path dir = RandomGpt2.write(tmp.resolve("m"), 50, 16, 1, 2, 8, 1);
        Path file = dir.resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(file);
        long headerLen = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        String header = new String(bytes, 8, (int) headerLen, StandardCharsets.UTF_8);
        // push the last tensor's end far past the data, keeping the header length unchanged
        String lying = header.replaceFirst("\"data_offsets\":\\[(\\d+),(\\d+)\\]", "\"data_offsets\":[$1,99999999]");
        lying = lying.substring(0, Math.min(lying.length(), (int) headerLen));
        byte[] patched = Arrays.copyOf(bytes, bytes.length);
        byte[] lyingBytes = (lying + " ".repeat((int) headerLen)).substring(0, (int) headerLen).getBytes(StandardCharsets.UTF_8);
        System.arraycopy(lyingBytes, 0, patched, 8, (int) headerLen);
        Files.write(file, patched);
        assertThatThrownBy(() -> SafetensorsFile.open(file))
                .isInstanceOf(CheckpointFormatException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("field data_offsets")
                .hasMessageContaining("tensor '");
        assertThatThrownBy(() -> CheckpointLoader.load(dir)).hasMessageContaining("data_offsets");
    }

    @Test
    void configWithAnUnknownModelType() throws Exception {
        Path dir = RandomGpt2.write(tmp.resolve("m2"), 50, 16, 1, 2, 8, 1);
        Path config = dir.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"gpt2\"", "\"mamba\""));
        assertThatThrownBy(() -> CheckpointLoader.load(dir))
                .isInstanceOf(CheckpointFormatException.class)
                .hasMessageContaining(config.toString())
                .hasMessageContaining("field model_type is \"mamba\"; splitfed supports \"gpt2\", \"llama\" and \"bert\"");
        Files.writeString(config, "{ \"model_type\": \"gpt2\", \"n_embd\": ");
        assertThatThrownBy(() -> CheckpointLoader.load(dir)).hasMessageContaining("config.json").hasMessageContaining("line 1");
    }

    @Test
    void llama2cFileOfTheWrongSize() throws Exception {
        byte[] real = Files.readAllBytes(SharedData.stories260k());
        Path truncated = tmp.resolve("stories-truncated.bin");
        Files.write(truncated, Arrays.copyOf(real, real.length - 100));
        assertThatThrownBy(() -> CheckpointLoader.load(truncated))
                .isInstanceOf(CheckpointFormatException.class)
                .hasMessageContaining(truncated.toString())
                .hasMessageContaining("dim=64")
                .hasMessageContaining("needs exactly " + real.length + " bytes")
                .hasMessageContaining("but the file has " + (real.length - 100) + " bytes");
    }
}
