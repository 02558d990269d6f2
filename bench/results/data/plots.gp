set terminal pngcairo size 1000,600 font 'sans,11'
set grid
set key top left
set output 'latency.png'
set title 'Echo latency by percentile, open loop at 16300 calls/s (all rounds merged)'
set logscale xy
set xlabel 'percentile'
set ylabel 'latency (us)'
set xtics ('50%%' 2, '90%%' 10, '99%%' 100, '99.9%%' 1000, '99.99%%' 10000)
plot 'data/latency-A.dat' using 2:3 with linespoints title 'A', 'data/latency-B.dat' using 2:3 with linespoints title 'B', 'data/latency-C.dat' using 2:3 with linespoints title 'C', 'data/latency-G.dat' using 2:3 with linespoints title 'G', 'data/latency-N.dat' using 2:3 with linespoints title 'N'
unset logscale
set xtics auto
set output 'memory.png'
set title 'Server memory with idle authenticated connections (median of rounds)'
set xlabel 'idle connections'
set ylabel 'MB'
plot 'data/memory-A.dat' using 1:2 with linespoints lw 2 title 'A RSS', 'data/memory-A.dat' using 1:3 with linespoints dashtype 2 title 'A heap', 'data/memory-G.dat' using 1:2 with linespoints lw 2 title 'G RSS', 'data/memory-G.dat' using 1:3 with linespoints dashtype 2 title 'G heap', 'data/memory-N.dat' using 1:2 with linespoints lw 2 title 'N RSS', 'data/memory-N.dat' using 1:3 with linespoints dashtype 2 title 'N heap'
set output 'flood.png'
set title 'Flood of 5000 unauthenticated connections (deadline 10 s): victims and open flood connections'
set xlabel 'seconds'
set ylabel 'victims: worst latency per 250 ms (ms)'
set logscale y
set y2label 'open unauthenticated connections'
set y2tics
set ytics nomirror
plot 'data/flood.dat' using 1:2 with lines lw 2 title 'victims max latency', 'data/flood.dat' using 1:3 axes x1y2 with lines lw 2 title 'open flood connections'
