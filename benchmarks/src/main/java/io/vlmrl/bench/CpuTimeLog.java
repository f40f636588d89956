package io.vlmrl.bench;

import java.lang.management.ManagementFactory;

/**
 * Process CPU time per call of one benchmark case, as a CSV line for the report, next to JMH's
 * wall time. On a machine whose cores other jobs share, wall time includes the time the
 * benchmark's threads wait to be scheduled; CPU time counts only what they ran (all threads of
 * the forked JVM, native ones included), so ratios of CPU times stay comparable when the load
 * changes between cases. The file is named by -Dvlmrl.bench.cpuFile (run.sh sets it); without
 * it lines go to stdout.
 *
 * <p>Format: {@code benchmark,params,cpu_ns_per_op}.
 */
public final class CpuTimeLog {

    public static final String PROPERTY = "vlmrl.bench.cpuFile";
    public static final String HEADER = "benchmark,params,cpu_ns_per_op";

    private CpuTimeLog() {
    }

    /** CPU time of the whole process so far, in nanoseconds. */
    public static long processCpuNanos() {
        java.lang.management.OperatingSystemMXBean bean = ManagementFactory.getOperatingSystemMXBean();
        if (bean instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        throw new IllegalStateException("process CPU time is not available from this JVM");
    }

    public static synchronized void record(String benchmark, String params, double cpuNanosPerOp) {
        String line = benchmark + "," + params + "," + Math.round(cpuNanosPerOp);
        CsvSideLog.append(PROPERTY, HEADER, "cpu-time", line);
    }
}
