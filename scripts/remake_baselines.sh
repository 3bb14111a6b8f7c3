#!/usr/bin/env bash
# Remake every TF version's quick baseline from this one commit, each in its own tox
# environment, each holding every experiment the gate judges there (the `gated` group;
# PQAT left out on TF 2.15, where tfmot's quantize_apply fails). `tox run --notest`
# rebuilds and reinstalls prunebench from the checkout first, so no environment gates with
# an older build. Each version's run is kept in results/versions/tfX.Y.json, and when every
# version was remade, `prunebench matrix` judges them in order (its exit status is the
# script's). Usage: scripts/remake_baselines.sh [VERSION ...]   (default: all; e.g. 215)
# Pre-releases (tf-nightly, rc) get no baseline of their own: `prunebench check` judges them
# against the newest older one.
#   EXPERIMENTS="zoo_gated"  remake only those experiments' task baselines (default: every
#                            task's gated experiments); their records are then kept as
#                            results/versions/<RECORD_PREFIX>tfX.Y.json (RECORD_PREFIX "zoo-")
#   JOBS=2                   spread each version's run over 2 processes (faster; its
#                            timing then reads busy and is not judged against)
set -euo pipefail
cd "$(dirname "$0")/.."
TOX=${TOX:-tox}
versions=("$@")
if [ ${#versions[@]} -eq 0 ]; then versions=(215 216 217 218 219 220 221); fi
if [ -n "$(git status --porcelain -- src)" ]; then
    echo "remake_baselines: src/ has uncommitted changes; baselines are made from a commit" >&2
    exit 2
fi
mkdir -p results/versions
for v in "${versions[@]}"; do
    start=$(date +%s)
    "$TOX" run -e "py311-tf$v" --notest
    # The example of a user's task, as the environment's commands_pre install it.
    "$TOX" exec -e "py311-tf$v" -- python -m pip install -q --no-deps -e examples/prunebench-example-task
    "$TOX" exec -e "py311-tf$v" -- prunebench baseline --update --profile quick --seeds 0 1 2 3 4 \
        ${EXPERIMENTS:+--experiments $EXPERIMENTS} --jobs "${JOBS:-1}" \
        --out "results/versions/${RECORD_PREFIX:-}tf${v:0:1}.${v:1}.json"
    echo "TF ${v:0:1}.${v:1}: baseline remade in $(( $(date +%s) - start )) s"
done
if [ $# -eq 0 ]; then
    "$TOX" exec -e py311-tf221 -- prunebench matrix results/versions/tf2.*.json
fi
