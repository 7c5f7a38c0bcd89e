#!/usr/bin/env bash
# loadtest/fleet-charts.sh OUT: the charts of a make fleet report from its data files in OUT
# (pss.tsv, connections.tsv, propagation.tsv): pss.png, connections.png, propagation.png.
set -euo pipefail
OUT="$1"
gnuplot <<GNUPLOT
set terminal pngcairo size 900,420
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set yrange [0:*]
set key top left
set output '$OUT/pss.png'
set title 'PSS per process by role (median)'
set ylabel 'MiB'
plot '$OUT/pss.tsv' using 2:xtic(1) every ::1 title 'at start', '' using 3 every ::1 title 'under load'
set output '$OUT/connections.png'
set key outside right
set yrange [0:4]
set title 'TCP connections per process by role, under load (median)'
set ylabel 'connections'
plot '$OUT/connections.tsv' using 2:xtic(1) every ::1 title 'Kafka', '' using 3 every ::1 title 'Redis', \
     '' using 4 every ::1 title 'PostgreSQL', '' using 5 every ::1 title 'PgBouncer'
set output '$OUT/propagation.png'
set key top left
set title 'Route change until every node sidecar of its tenant serves it'
set style data lines
set xlabel 'ms'
set ylabel 'share of changes'
set yrange [0:1]
set logscale x
plot '$OUT/propagation.tsv' using 1:2 skip 1 lw 2 title 'changes (CDF)'
GNUPLOT
