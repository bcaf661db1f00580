package dev.berth.core;

/**
 * The size of a terminal in character cells, as the kernel keeps it for a tty ({@code struct
 * winsize}: {@code ws_col}, {@code ws_row}); OCI's {@code process.consoleSize} ({@code width},
 * {@code height}). Zero means unknown.
 */
public record TerminalSize(int columns, int rows) {

    /** 80 columns by 24 rows (the VT100's): a container's terminal unless its spec says otherwise. */
    public static final TerminalSize DEFAULT = new TerminalSize(80, 24);

    public TerminalSize {
        if (columns < 0 || columns > 0xffff || rows < 0 || rows > 0xffff) {
            throw new IllegalArgumentException("terminal size: columns and rows must be 0..65535, got "
                    + columns + "x" + rows);
        }
    }

    @Override
    public String toString() {
        return columns + "x" + rows;
    }
}
