module taskdash.local/bench/loadgen

go 1.22
