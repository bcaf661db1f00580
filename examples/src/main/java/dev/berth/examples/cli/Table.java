package dev.berth.examples.cli;

import java.util.ArrayList;
import java.util.List;

/** Columns as docker's tabwriter lays them out: each as wide as its widest cell, three spaces apart. */
final class Table {
    private final List<String[]> rows = new ArrayList<>();

    Table(String... header) {
        rows.add(header);
    }

    Table row(String... cells) {
        rows.add(cells);
        return this;
    }

    @Override
    public String toString() {
        int n = rows.get(0).length;
        int[] width = new int[n];
        for (String[] r : rows) {
            for (int i = 0; i < n; i++) {
                width[i] = Math.max(width[i], r[i].length());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (String[] r : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < n; i++) {
                line.append(r[i]);
                if (i < n - 1) {
                    line.append(" ".repeat(width[i] - r[i].length() + 3));
                }
            }
            sb.append(line.toString().stripTrailing()).append('\n');
        }
        return sb.toString();
    }
}
