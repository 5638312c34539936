# bench/plot.gp: instructions executed per decision against rule count (allow lists),
# sx against libseccomp's default and binary-tree programs. bench/bench.lua passes
# data='sweep.dat' and out='....png'.
set terminal pngcairo size 900,560 font ",11" noenhanced
set output out
set title "BPF instructions executed per decision (x86_64, every syscall number)"
set xlabel "syscalls in the allow list"
set ylabel "instructions executed"
set key top left
set grid
set logscale y
set yrange [5:*]
plot data using 1:2 with linespoints lw 2 pt 7 title "sx average", \
     data using 1:5 with linespoints lw 2 pt 7 dt 2 title "sx max", \
     data using 1:3 with linespoints lw 2 pt 5 title "libseccomp average", \
     data using 1:6 with linespoints lw 2 pt 5 dt 2 title "libseccomp max", \
     data using 1:4 with linespoints lw 2 pt 9 title "libseccomp tree average", \
     data using 1:7 with linespoints lw 2 pt 9 dt 2 title "libseccomp tree max"
