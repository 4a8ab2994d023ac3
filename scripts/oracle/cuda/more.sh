#!/usr/bin/env bash
# The CUDA oracle's second run (scripts/oracle/cuda/README.md): grid-cuda-more.json and its
# footprints, with device.sh's build. Arguments as device.sh's.
ORACLE_RUN=more exec "$(dirname "${BASH_SOURCE[0]}")/device.sh" "$@"
