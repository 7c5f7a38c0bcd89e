package dev.trafficmanager.tmctl.spec;

import java.util.List;

/** What is wrong with a routes file, each problem with its line (0: the file as a whole). */
public final class SpecError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** One problem: the line it is on and what is wrong. */
    public record Problem(int line, String message) {
        @Override
        public String toString() {
            return (line > 0 ? "line " + line + ": " : "") + message;
        }
    }

    private final List<Problem> problems;

    public SpecError(int line, String message) {
        this(List.of(new Problem(line, message)));
    }

    public SpecError(List<Problem> problems) {
        super(problems.get(0).toString());
        this.problems = List.copyOf(problems);
    }

    public List<Problem> problems() {
        return problems;
    }
}
