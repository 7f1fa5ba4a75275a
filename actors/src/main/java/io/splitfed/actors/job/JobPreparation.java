package io.splitfed.actors.job;

import io.splitfed.actors.device.DeviceData;
import io.splitfed.model.data.DataSets;
import io.splitfed.model.data.Dataset;
import io.splitfed.model.data.Example;
import io.splitfed.model.data.StratifiedSplit;
import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.data.WholeTextSplit;
import io.splitfed.model.data.partition.Partitioner;
import io.splitfed.model.head.CausalLmHead;
import io.splitfed.model.head.ClassificationHead;
import io.splitfed.model.head.TaskHead;
import io.splitfed.model.io.CheckpointLoader;
import io.splitfed.model.io.LoadedWeights;
import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.nn.TransformerModel;
import io.splitfed.model.tensor.TensorExecutor;
import io.splitfed.model.tokenizer.SequenceEncoder;
import io.splitfed.model.tokenizer.Tokenizer;
import io.splitfed.model.tokenizer.Tokenizers;
import io.splitfed.model.train.Evaluation;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/** Reads, splits, tokenizes and partitions a job's data, and puts its model on the engine. */
public final class JobPreparation {

    private static final Logger LOG = LoggerFactory.getLogger(JobPreparation.class);

    private JobPreparation() {}

    public static PreparedJob prepare(JobSpec spec) {
        LoadedWeights weights = CheckpointLoader.load(spec.model().path());
        spec.validated(weights.config().numLayers());
        Tokenizer tokenizer = Tokenizers.load(spec.model().tokenizer(), spec.model().path(), weights.config());
        if (tokenizer.vocabSize() > weights.config().vocabSize()) {
            throw new IllegalArgumentException("tokenizer has " + tokenizer.vocabSize() + " tokens but the model only " + weights.config().vocabSize());
        }
        Dataset train = DataSets.read(spec.data().train());
        DataChecks.requireLabels(train);
        boolean pairs = train.examples().stream().anyMatch(e -> e.textPair() != null);
        SequenceEncoder encoder = new SequenceEncoder(tokenizer, spec.data().maxLength(pairs), spec.data().pairSeparator());
        boolean classify = train.isClassification();
        int[] labels = train.labels();
        long seed = spec.seed();
        int[] trainIdx;
        Dataset evalSet;
        int[] evalIdx;
        String evalDescription;
        if (spec.data().eval() != null) {
            evalSet = DataSets.read(spec.data().eval());
            if (classify && !evalSet.labelNames().equals(train.labelNames())) {
                throw new IllegalArgumentException(spec.data().eval() + ": labels " + evalSet.labelNames() + " differ from the training data's " + train.labelNames());
            }
            trainIdx = all(train.size());
            evalIdx = all(evalSet.size());
            evalDescription = spec.data().eval().toString();
        } else {
            WholeTextSplit.Result split = WholeTextSplit.of(train.examples(), labels, spec.data().validationFraction(), seed);
            trainIdx = split.train();
            evalSet = train;
            evalIdx = split.validation();
            evalDescription = split.phrases()
                    ? String.format(java.util.Locale.ROOT, "%d whole sentences held out of %d in the training file (%d rows that are their phrases left out of training)",
                            evalIdx.length, split.wholeTexts(), split.dropped())
                    : String.format(java.util.Locale.ROOT, "%d rows held out of the training file, stratified by label", evalIdx.length);
            LOG.info("validation: {}", evalDescription);
        }
        if (spec.data().trainLimit() > 0) {
            trainIdx = StratifiedSplit.stratifiedSample(trainIdx, labels, spec.data().trainLimit(), seed + 1);
        }
        if (spec.data().evalLimit() > 0 && spec.data().evalLimit() < evalIdx.length) {
            evalIdx = StratifiedSplit.stratifiedSample(evalIdx, evalSet.labels(), spec.data().evalLimit(), seed + 2);
            evalDescription += ", " + evalIdx.length + " of them scored (eval-limit)";
        }
        if (spec.data().eval() == null) {
            DataChecks.requireEvaluationRows(train, evalIdx.length, spec.data().validationFraction());
        } else if (evalIdx.length == 0) {
            throw new io.splitfed.model.data.DataFormatException(spec.data().eval(), "holds no evaluation rows");
        }
        DataChecks.requireRowsForDevices(train, trainIdx.length, spec.federation().devices());

        Function<List<SequenceEncoder.Encoded>, TokenBatch> batcher = classify ? encoder::batch : encoder::lmBatch;
        TaskHead head = classify ? new ClassificationHead(train.numLabels()) : new CausalLmHead();
        int devices = spec.federation().devices();
        Partitioner partitioner = spec.mode() == TrainingMode.CENTRALIZED ? Partitioner.parse("iid") : Partitioner.parse(spec.federation().partition());
        int[] subsetLabels = new int[trainIdx.length];
        for (int i = 0; i < trainIdx.length; i++) {
            subsetLabels[i] = classify ? labels[trainIdx[i]] : 0;
        }
        int[][] parts = partitioner.partition(subsetLabels, devices, seed + 3);
        // devices send micro-batches of similar lengths; a SplitFrozen shard that mixes devices then takes
        // each device's rows nearest in length to its step's first row
        boolean bucket = true;
        List<DeviceData> deviceData = new ArrayList<>();
        long trainTokens = 0;
        for (int d = 0; d < devices; d++) {
            List<SequenceEncoder.Encoded> rows = new ArrayList<>();
            for (int i : parts[d]) {
                int idx = trainIdx[i];
                rows.add(classify ? encoder.encode(idx, train.examples().get(idx)) : encoder.encodeForLm(idx, train.examples().get(idx)));
            }
            deviceData.add(new DeviceData(rows, spec.training().microBatch(), seed * 1_000_033L + d, bucket));
            for (SequenceEncoder.Encoded r : rows) {
                trainTokens += r.ids().length;
            }
        }
        if (Double.isNaN(spec.federation().epochs())) {
            double epochs = spec.federation().autoEpochs(trainTokens);
            LOG.info("epochs = auto: {} passes over {} training tokens (about {} tokens in all)", epochs, trainTokens,
                    spec.federation().autoEpochTokens());
            spec = spec.withEpochs(epochs);
        }
        if (spec.checkpoint().enabled()) {
            spec = spec.withCheckpoint(spec.checkpoint().withJob(CheckpointFingerprints.of(spec, weights.config(), train)));
        }

        List<SequenceEncoder.Encoded> evalRows = new ArrayList<>();
        for (int idx : evalIdx) {
            evalRows.add(classify ? encoder.encode(idx, evalSet.examples().get(idx)) : encoder.encodeForLm(idx, evalSet.examples().get(idx)));
        }
        List<TokenBatch> evalBatches = SequenceEncoder.byLength(evalRows, Evaluation.BATCH, batcher);

        TransformerModel model = TensorExecutor.shared().call(() -> TransformerModel.create(weights));
        var lora = spec.training().lora();
        LoraAdapter whole = LoraAdapter.init(lora, model.loraModules(0, model.numLayers(), lora.targets()),
                head.trainableTensors(model.config()), seed, spec.training().freezeA());
        List<Example> evalExamples = Arrays.stream(evalIdx).mapToObj(evalSet.examples()::get).toList();
        return new PreparedJob(spec, model, head, encoder, train, deviceData, evalBatches, whole, batcher, evalExamples, evalDescription);
    }

    private static int[] all(int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
        }
        return a;
    }
}
