package io.vlmrl.bench.report;

import io.vlmrl.bench.ByteModel;
import io.vlmrl.bench.PolicyLossCase;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Turns one JMH JSON result file (and the peak-memory CSV of the same run) into Markdown
 * tables: fused time, eager time, speed-up, effective bandwidth as a fraction of the STREAM
 * triad's, peak extra memory as a multiple of the logits, and whether the CPU targets are met.
 *
 * <p>Usage: {@code ResultsReport <jmh.json>... [memory.csv] [...-cpu.csv]} (several JSON files of one run,
 * e.g. run.sh full's separate fused-LM-head invocation; the CPU-time file's name ends in {@code -cpu.csv}).
 */
public final class ResultsReport {

    /** CPU targets of the issue. */
    static final double POLICY_LOSS_MIN_SPEEDUP = 10.0;
    static final double POLICY_LOSS_MIN_TRIAD_FRACTION = 0.5;
    static final int POLICY_LOSS_TARGET_TOKENS = 4 * 1024 * 1024;
    static final double LOGPROBS_MIN_SPEEDUP = 5.0;
    static final double LOGPROBS_MAX_EXTRA_MEMORY = 1.1;
    static final String LOGPROBS_TARGET_SHAPE = "2048x32768";
    /** Fused LM head: peak extra memory at most this fraction of the unfused path's, time at most this multiple. */
    static final double LM_HEAD_MAX_MEMORY_FRACTION = 0.05;
    static final double LM_HEAD_MAX_TIME_RATIO = 1.2;
    static final List<String> LM_HEAD_TARGET_SHAPES = List.of("4096x2048x151936", "8192x1024x151936");

    private final List<JmhResult> results;
    private final PeakMemoryRecords memory;
    private final CpuTimeRecords cpu;
    private final StringBuilder out = new StringBuilder();

    ResultsReport(List<JmhResult> results, PeakMemoryRecords memory, CpuTimeRecords cpu) {
        this.results = results;
        this.memory = memory;
        this.cpu = cpu;
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 1) {
            System.err.println("usage: ResultsReport <jmh-result.json>... [peak-memory.csv] [cpu-time -cpu.csv]");
            System.exit(2);
        }
        List<JmhResult> results = new ArrayList<>();
        Path memoryFile = null;
        Path cpuFile = null;
        for (String arg : args) {
            if (arg.endsWith("-cpu.csv")) {
                cpuFile = Path.of(arg);
            } else if (arg.endsWith(".csv")) {
                memoryFile = Path.of(arg);
            } else {
                results.addAll(JmhResult.read(Path.of(arg)));
            }
        }
        PeakMemoryRecords memory = PeakMemoryRecords.read(memoryFile);
        System.out.print(new ResultsReport(results, memory, CpuTimeRecords.read(cpuFile)).render());
    }

    String render() {
        double triadBytesPerSecond = triadSection();
        policyLossSection(triadBytesPerSecond);
        tokenLogProbsSection(triadBytesPerSecond);
        lmHeadSection();
        trainStepSection();
        return out.toString();
    }

    /** Returns the triad bandwidth in bytes/s, NaN when the run has no triad result. */
    private double triadSection() {
        Optional<JmhResult> triad = find(r -> r.benchmarkClass.equals("StreamTriadBenchmark"));
        out.append("### Memory bandwidth reference (STREAM triad, native OpenMP)\n\n");
        if (triad.isEmpty()) {
            out.append("No triad result in this run: bandwidth fractions are not available.\n\n");
            return Double.NaN;
        }
        JmhResult t = triad.get();
        long elements = Long.parseLong(t.param("elements"));
        double bandwidth = ByteModel.triad(elements) / t.secondsPerOp;
        out.append(String.format(Locale.ROOT, "a = b + s*c over %d floats per array (%.0f MiB moved per call): "
                + "%.3f ms, **%.2f GB/s**\n\n", elements, ByteModel.triad(elements) / 1048576.0,
                t.secondsPerOp * 1e3, bandwidth / 1e9));
        return bandwidth;
    }

    private void policyLossSection(double triad) {
        List<Map<String, String>> cases = paramSets("PolicyLossBenchmark");
        if (cases.isEmpty()) {
            return;
        }
        out.append("### Policy loss, forward + backward, fp32\n\n");
        out.append("| mode | tokens | fused ms | eager ms | speed-up | fused GB/s (triad %) | kernel-only ms | kernel-only GB/s (triad %) "
                + "| fused / kernel | reused-grad ms | reused-grad / kernel | library eager ms | target |\n");
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
        cases.sort(Comparator.comparing((Map<String, String> p) -> PolicyLossCase.fromId(p.get("mode")).ordinal())
                .thenComparing(p -> Long.parseLong(p.get("tokens"))));
        for (Map<String, String> p : cases) {
            PolicyLossCase lossCase = PolicyLossCase.fromId(p.get("mode"));
            long tokens = Long.parseLong(p.get("tokens"));
            long bytes = ByteModel.policyLoss(lossCase, tokens);
            double fused = seconds("PolicyLossBenchmark", "fused", p);
            double eager = seconds("PolicyLossBenchmark", "eager", p);
            double kernel = seconds("PolicyLossBenchmark", "fusedKernelOnly", p);
            double eagerLibrary = seconds("PolicyLossBenchmark", "eagerLibrary", p);
            double reused = seconds("PolicyLossBenchmark", "fusedReusedGrad", p);
            double speedup = eager / fused;
            double kernelFraction = bytes / kernel / triad;
            String target = "";
            if (tokens == POLICY_LOSS_TARGET_TOKENS) {
                target = verdict(speedup >= POLICY_LOSS_MIN_SPEEDUP && kernelFraction >= POLICY_LOSS_MIN_TRIAD_FRACTION,
                        String.format(Locale.ROOT, "≥%.0fx, ≥%.0f%% triad", POLICY_LOSS_MIN_SPEEDUP,
                                POLICY_LOSS_MIN_TRIAD_FRACTION * 100));
            }
            out.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
                    lossCase.id(), tokensLabel(tokens), ms(fused), ms(eager), ratio(speedup),
                    bandwidth(bytes / fused, triad), ms(kernel), bandwidth(bytes / kernel, triad),
                    timeRatio(fused / kernel), ms(reused), timeRatio(reused / kernel), ms(eagerLibrary), target));
        }
        out.append("\nfused: the library's PolicyLoss.compute on the fused backend (checks, gradient allocated per call, "
                + "metrics); reused-grad: the same call writing into the caller's gradient buffer (gradOutputs), "
                + "reused across calls; eager: the same loss as lean LibTorch ops + autograd (the speed-up's denominator); "
                + "kernel-only: the C kernel into a preallocated buffer (the bandwidth target); library eager: the "
                + "library's eager reference backend (also checks non-finite inputs and computes every metric). "
                + "Bytes per token: 17 (21 with the KL's ref input).\n\n");
    }

    private void tokenLogProbsSection(double triad) {
        List<Map<String, String>> cases = paramSets("TokenLogProbsBenchmark");
        if (cases.isEmpty()) {
            return;
        }
        out.append("### Token log-probs + entropy from logits, forward + backward\n\n");
        out.append("| N x V | dtype | fused ms | eager ms | speed-up | fused GB/s (triad %) | in-place ms | in-place GB/s (triad %) | library eager ms "
                + "| extra memory fused | in-place | eager | library eager | target |\n");
        out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
        cases.sort(Comparator.comparing((Map<String, String> p) -> p.get("shape")).thenComparing(p -> p.get("dtype")));
        for (Map<String, String> p : cases) {
            String shape = p.get("shape");
            String dtype = p.get("dtype");
            String[] nv = shape.split("x");
            long bytes = ByteModel.tokenLogProbs(Long.parseLong(nv[0]), Long.parseLong(nv[1]), "bf16".equals(dtype) ? 2 : 4);
            double fused = seconds("TokenLogProbsBenchmark", "fused", p);
            double eager = seconds("TokenLogProbsBenchmark", "eager", p);
            double inPlace = seconds("TokenLogProbsBenchmark", "fusedInPlace", p);
            double eagerLibrary = seconds("TokenLogProbsBenchmark", "eagerLibrary", p);
            String memoryKey = "shape=" + shape + ";dtype=" + dtype;
            double fusedMemory = memory.ratio("TokenLogProbsBenchmark", "fused", memoryKey);
            double eagerMemory = memory.ratio("TokenLogProbsBenchmark", "eager", memoryKey);
            double inPlaceMemory = memory.ratio("TokenLogProbsBenchmark", "fusedInPlace", memoryKey);
            double eagerLibraryMemory = memory.ratio("TokenLogProbsBenchmark", "eagerLibrary", memoryKey);
            double speedup = eager / fused;
            String target = "";
            if (shape.equals(LOGPROBS_TARGET_SHAPE) && dtype.equals("fp32")) {
                target = verdict(speedup >= LOGPROBS_MIN_SPEEDUP && fusedMemory <= LOGPROBS_MAX_EXTRA_MEMORY,
                        String.format(Locale.ROOT, "≥%.0fx, ≤%.1fx logits", LOGPROBS_MIN_SPEEDUP, LOGPROBS_MAX_EXTRA_MEMORY));
            }
            out.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
                    shape, dtype, ms(fused), ms(eager), ratio(speedup), bandwidth(bytes / fused, triad),
                    ms(inPlace), bandwidth(bytes / inPlace, triad), ms(eagerLibrary),
                    memoryRatio(fusedMemory), memoryRatio(inPlaceMemory), memoryRatio(eagerMemory),
                    memoryRatio(eagerLibraryMemory), target));
        }
        out.append("\nPeak extra memory: rise of the process's resident high-water mark (VmHWM) during an iteration, "
                + "largest over the iterations, each case in its own JVM, as a multiple of the logits' size. "
                + "fused, eager and library eager allocate the logits gradient (1.0x) inside the measured call; "
                + "in-place writes it over the logits, as the trainer does. The memory target applies to fused.\n\n");
    }

    private void lmHeadSection() {
        String bench = "LmHeadLogProbsBenchmark";
        List<Map<String, String>> cases = paramSets(bench);
        if (cases.isEmpty()) {
            return;
        }
        out.append("### Fused LM head + token log-probs + entropy, forward + backward (dL/dh, dL/dW)\n\n");
        out.append("| N x D x V | dtype | chunk | fused ms | one-pass ms | unfused ms | eager ms "
                + "| fused / unfused time | one-pass / unfused time | eager / one-pass time "
                + "| extra memory fused | one-pass | unfused | eager | fused / unfused memory | one-pass / unfused memory "
                + "| unfused GFLOP/s | CPU s fused / one-pass / unfused / eager | fused / unfused CPU | one-pass / unfused CPU "
                + "| target |\n");
        out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
        cases.sort(Comparator.comparing((Map<String, String> p) -> p.get("ndv")).thenComparing(p -> p.get("dtype")));
        for (Map<String, String> p : cases) {
            String ndv = p.get("ndv");
            String[] dims = ndv.split("x");
            double flops = 2.0 * Double.parseDouble(dims[0]) * Double.parseDouble(dims[1]) * Double.parseDouble(dims[2]);
            double fused = seconds(bench, "fused", p);
            double onePass = seconds(bench, "fusedOnePass", p);
            double unfused = seconds(bench, "unfused", p);
            double eager = seconds(bench, "eager", p);
            String key = io.vlmrl.bench.LmHeadLogProbsBenchmark.memoryKey(ndv, p.get("dtype"), Long.parseLong(p.get("chunk")));
            double fusedMemory = memory.ratio(bench, "fused", key);
            double onePassMemory = memory.ratio(bench, "fusedOnePass", key);
            double unfusedMemory = memory.ratio(bench, "unfused", key);
            double eagerMemory = memory.ratio(bench, "eager", key);
            double fusedCpu = cpu.seconds(bench, "fused", key);
            double onePassCpu = cpu.seconds(bench, "fusedOnePass", key);
            double unfusedCpu = cpu.seconds(bench, "unfused", key);
            double eagerCpu = cpu.seconds(bench, "eager", key);
            String target = "";
            if (LM_HEAD_TARGET_SHAPES.contains(ndv) && "fp32".equals(p.get("dtype"))) {
                target = "two-call " + lmHeadVerdict(fused, fusedMemory, unfused, unfusedMemory, eager)
                        + "; one-pass " + lmHeadVerdict(onePass, onePassMemory, unfused, unfusedMemory, eager);
            }
            out.append(String.format(Locale.ROOT,
                    "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
                    ndv, p.get("dtype"), "0".equals(p.get("chunk")) ? "default" : p.get("chunk"),
                    ms(fused), ms(onePass), ms(unfused), ms(eager),
                    timeRatio(fused / unfused), timeRatio(onePass / unfused), timeRatio(eager / onePass),
                    memoryRatio(fusedMemory), memoryRatio(onePassMemory), memoryRatio(unfusedMemory),
                    memoryRatio(eagerMemory), percent(fusedMemory / unfusedMemory),
                    percent(onePassMemory / unfusedMemory),
                    Double.isNaN(unfused) ? "–" : String.format(Locale.ROOT, "%.0f", 3 * flops / unfused / 1e9),
                    cpuSeconds(fusedCpu) + " / " + cpuSeconds(onePassCpu) + " / " + cpuSeconds(unfusedCpu) + " / "
                            + cpuSeconds(eagerCpu),
                    timeRatio(fusedCpu / unfusedCpu), timeRatio(onePassCpu / unfusedCpu), target));
        }
        out.append("\nfused: LmHeadLogProbs.forward then backward (the backward recomputes each chunk's logits: 4 "
                + "N x D x V products); one-pass: LmHeadLogProbs.forwardBackward, each chunk's upstream gradient "
                + "given when its log-probs are known, as the trainer runs it (3 products); unfused: h.matmul(W.t()) "
                + "materialised, today's fused kernel with its gradient in place, autograd's matmul backward "
                + "(3 products); eager: logits, log_softmax, gather, entropy, autograd. Extra memory: peak rise of "
                + "the resident high-water mark during an iteration, as a multiple of the [N, V] logits; h.grad and "
                + "W.grad exist before the call (gradient accumulation), so the unfused path's extra is the logits "
                + "plus autograd's transient [D, V] weight gradient. unfused GFLOP/s: its 3 products / its time. "
                + "CPU s: process CPU time per call (all threads; least over the measured iterations), the steadier "
                + "measure when other jobs share the cores; the target verdicts use wall time. "
                + String.format(Locale.ROOT, "Target (fp32, issue shapes): memory ≤ %.0f%% of unfused, time ≤ %.1fx unfused, "
                        + "faster than eager.", LM_HEAD_MAX_MEMORY_FRACTION * 100, LM_HEAD_MAX_TIME_RATIO)
                + "\n\n");
    }

    private static String lmHeadVerdict(double time, double memory, double unfused, double unfusedMemory, double eager) {
        boolean memoryOk = memory / unfusedMemory <= LM_HEAD_MAX_MEMORY_FRACTION;
        boolean timeOk = time / unfused <= LM_HEAD_MAX_TIME_RATIO;
        String eagerPart = Double.isNaN(eager) ? ", eager not run" : (time < eager ? "" : ", **slower than eager**");
        boolean met = memoryOk && timeOk && (Double.isNaN(eager) || time < eager);
        return (met ? "met" : "**missed**") + " (memory " + percent(memory / unfusedMemory) + ", time "
                + timeRatio(time / unfused) + eagerPart + ")";
    }

    private static String cpuSeconds(double value) {
        return Double.isNaN(value) ? "–" : String.format(Locale.ROOT, "%.1f", value);
    }

    private static String timeRatio(double value) {
        return Double.isNaN(value) ? "–" : String.format(Locale.ROOT, "%.2fx", value);
    }

    private static String percent(double value) {
        return Double.isNaN(value) ? "–" : String.format(Locale.ROOT, "%.1f%%", 100 * value);
    }

    private void trainStepSection() {
        List<Map<String, String>> cases = paramSets("TrainStepBenchmark");
        if (cases.isEmpty()) {
            return;
        }
        out.append("### One RL training step of the built-in model (RlTrainer.step)\n\n");
        out.append("| preset | prompts x G | image | fused, shared ms/step | fused, repeated ms/step | prompt sharing: tokens/s shared / repeated "
                + "| fused tokens/s shared | eager, shared ms/step | fused / eager speed-up |\n");
        out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Map<String, String> p : cases) {
            if ("false".equals(p.get("sharePromptCompute"))) continue; // the row of its shared twin
            Map<String, String> repeatedParams = new LinkedHashMap<>(p);
            repeatedParams.put("sharePromptCompute", "false");
            Optional<JmhResult> fused = result("TrainStepBenchmark", "fused", p);
            Optional<JmhResult> repeated = result("TrainStepBenchmark", "fused", repeatedParams);
            Optional<JmhResult> eager = result("TrainStepBenchmark", "eager", p);
            double fusedSeconds = fused.map(r -> r.secondsPerOp).orElse(Double.NaN);
            double repeatedSeconds = repeated.map(r -> r.secondsPerOp).orElse(Double.NaN);
            double eagerSeconds = eager.map(r -> r.secondsPerOp).orElse(Double.NaN);
            double sharing = tokensPerSecondValue(fused) / tokensPerSecondValue(repeated);
            out.append(String.format(Locale.ROOT, "| %s | %s x %s | %s | %s | %s | %s | %s | %s | %s |\n",
                    p.get("preset"), p.get("promptsPerStep"), p.get("groupSize"), p.get("imageSize"), ms(fusedSeconds), ms(repeatedSeconds),
                    ratio(sharing), tokensPerSecond(fused), ms(eagerSeconds), ratio(eagerSeconds / fusedSeconds)));
        }
        out.append("\nA step is rollout generation + rewards + advantages + K update passes; tokens are the trainer's "
                + "own count (generated + trained). shared: model.share_prompt_compute=true (a group decodes from one "
                + "prefill of its prompt; training runs each distinct prompt, image and tokens, once per micro-batch, its "
                + "responses attending to it); repeated: both per "
                + "response. fused / eager: kernels.backend, only the update passes differ. Target: sharing >= 1.5x at G = 8.\n\n");
    }

    private static double tokensPerSecondValue(Optional<JmhResult> result) {
        return result.map(r -> r.secondaryPerSecond.get("tokens")).orElse(Double.NaN);
    }

    private static String tokensPerSecond(Optional<JmhResult> result) {
        return result.map(r -> r.secondaryPerSecond.get("tokens"))
                .map(v -> String.format(Locale.ROOT, "%.0f", v)).orElse("–");
    }

    /** The distinct parameter sets of a benchmark class (its cases). */
    private List<Map<String, String>> paramSets(String benchmarkClass) {
        Map<String, Map<String, String>> sets = new LinkedHashMap<>();
        for (JmhResult r : results) {
            if (r.benchmarkClass.equals(benchmarkClass)) {
                sets.putIfAbsent(r.params.toString(), r.params);
            }
        }
        return new ArrayList<>(sets.values());
    }

    private double seconds(String benchmarkClass, String method, Map<String, String> params) {
        return result(benchmarkClass, method, params).map(r -> r.secondsPerOp).orElse(Double.NaN);
    }

    private Optional<JmhResult> result(String benchmarkClass, String method, Map<String, String> params) {
        return find(r -> r.benchmarkClass.equals(benchmarkClass) && r.method.equals(method) && r.params.equals(params));
    }

    private Optional<JmhResult> find(Predicate<JmhResult> predicate) {
        return results.stream().filter(predicate).findFirst();
    }

    private static String verdict(boolean met, String what) {
        return (met ? "met (" : "**missed** (") + what + ")";
    }

    private static String tokensLabel(long tokens) {
        if (tokens % (1024 * 1024) == 0) {
            return (tokens / (1024 * 1024)) + "M";
        }
        return tokens % 1024 == 0 ? (tokens / 1024) + "K" : Long.toString(tokens);
    }

    private static String ms(double seconds) {
        if (Double.isNaN(seconds)) {
            return "–";
        }
        double ms = seconds * 1e3;
        return String.format(Locale.ROOT, ms < 1 ? "%.3f" : ms < 100 ? "%.2f" : "%.0f", ms);
    }

    private static String ratio(double value) {
        return Double.isNaN(value) ? "–" : String.format(Locale.ROOT, "%.1fx", value);
    }

    private static String memoryRatio(double value) {
        return Double.isNaN(value) ? "–" : String.format(Locale.ROOT, "%.2fx", value);
    }

    private static String bandwidth(double bytesPerSecond, double triad) {
        if (Double.isNaN(bytesPerSecond)) {
            return "–";
        }
        if (Double.isNaN(triad)) {
            return String.format(Locale.ROOT, "%.1f", bytesPerSecond / 1e9);
        }
        return String.format(Locale.ROOT, "%.1f (%.0f%%)", bytesPerSecond / 1e9, 100 * bytesPerSecond / triad);
    }
}
