#!/usr/bin/env bash
# Hardware-aware Pareto study on NAS-Bench-201 and the timm zoo (survey Fig 18-19), from a result store.
#
# Usage: scripts/pareto_study.sh [STORE] [OUT_DIR]
#   STORE    default: zeronas-results/survey.sqlite. Proxy values are read from it (and whatever is
#            missing is computed and stored), so fill it first with `zeronas evaluate` on the same
#            samples (seed 0 draws the same cells in evaluate, pareto and hardware measure):
#              zeronas evaluate --space nb201 --dataset cifar10  --proxies "$P16" --sample 500  --seeds 0 --store STORE
#              zeronas evaluate --space nb201 --dataset cifar100 --proxies "$P16" --sample 1000 --include-top 5 --seeds 0 --store STORE
#            plus `--proxies gradsign` on both samples and `--proxies ntk_cond --sample 100` on cifar10,
#            and import the exports in benchmarks/results/store/ (they hold all of these).
#            The measured-latency study needs `zeronas hardware measure --all --clock thread --store STORE`.
#   OUT_DIR  default: benchmarks/results/pareto
set -euo pipefail

store="${1:-zeronas-results/survey.sqlite}"
out="${2:-benchmarks/results/pareto}"
p16="nwot,linear_regions,grad_norm,snip,plain,grasp,fisher,jacob_cov,epe_nas,params,flops,l2_norm,synflow,logsynflow,zen,zico"
p17="$p16,gradsign"  # gradsign: zeronas evaluate --proxies gradsign on the same samples
p18="$p17,ntk_cond"  # ntk_cond (9-17 s a cell): zeronas evaluate --proxies ntk_cond --sample 100 on CIFAR-10
cheap="params,flops,synflow,nwot"
budgets="0.05,0.1,0.25,0.5,0.75,1.0"

run() {
    local name="$1"
    shift
    echo "== $name"
    # --no-cells: every candidate's values are in the store; the picks, summary, JSON and plot are written
    COLUMNS=200 zeronas pareto --store "$store" --quantiles "$budgets" --no-cells --out "$out/$name" "$@" \
        | tee "$out/$name.txt"
}

mkdir -p "$out"
run c10_raspi4 --dataset cifar10 --cost nb201_latency -o device=raspi4 --proxies "$p17" --sample 500
run c10_eyeriss --dataset cifar10 --cost nb201_latency -o device=eyeriss --proxies "$p17" --sample 500
run c10_raspi4_predicted --dataset cifar10 --cost predicted_latency -o target=nb201_latency -o device=raspi4 \
    -o model=gcn -o n_train=200 --proxies "$p17" --sample 500
run c100_pi5_energy --dataset cifar100 --cost pi5_energy --proxies "$p17" --sample 1000
run c100_cpu_latency --dataset cifar100 --cost latency -o clock=thread -o statistic=min \
    --proxies "$p17" --sample 1000
run c10_raspi4_all18_sample100 --dataset cifar10 --cost nb201_latency -o device=raspi4 --proxies "$p18" --sample 100
run c10_eyeriss_all18_sample100 --dataset cifar10 --cost nb201_latency -o device=eyeriss --proxies "$p18" --sample 100
run c100_pi5_energy_full --dataset cifar100 --cost pi5_energy --proxies "$cheap" --sample 15625
run c100_cpu_latency_full --dataset cifar100 --cost latency -o clock=thread -o statistic=min \
    --proxies "$cheap" --sample 15625
run timm_cpu_i7 --space timm --cost timm_latency -o table=cpu-i7_12700h --max-params 50 --sample 120 \
    --proxies params,flops,synflow,logsynflow,nwot,zen,grad_norm,snip,jacob_cov,zico
python scripts/pareto_summary.py "$out" --out "$out/SUMMARY.md"
