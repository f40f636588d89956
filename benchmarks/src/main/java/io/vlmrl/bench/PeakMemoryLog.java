package io.vlmrl.bench;


/**
 * Records the peak extra memory of one benchmark case as a CSV line, for the report.
 * JMH forks a JVM per case, so each line comes from a process that ran only that case.
 * The file is named by -Dvlmrl.bench.memoryFile (run.sh sets it); without it lines go to stdout.
 *
 * <p>Format: {@code benchmark,params,extra_bytes,reference_bytes} where params is
 * {@code key=value} pairs joined by ';' (same keys as JMH's params) and reference_bytes is
 * the size the extra memory is compared with (the logits).
 */
public final class PeakMemoryLog {

    public static final String PROPERTY = "vlmrl.bench.memoryFile";
    public static final String HEADER = "benchmark,params,extra_bytes,reference_bytes";

    private PeakMemoryLog() {
    }

    public static synchronized void record(String benchmark, String params, long extraBytes, long referenceBytes) {
        String line = benchmark + "," + params + "," + extraBytes + "," + referenceBytes;
        CsvSideLog.append(PROPERTY, HEADER, "peak-memory", line);
    }
}
