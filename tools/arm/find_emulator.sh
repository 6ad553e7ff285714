#!/usr/bin/env bash
# Prints where the shared ARM emulator set-up script is ($ARM64_EMULATOR, else beside the
# checkout in ../shared/tools, else the workplace's /work/shared/tools); prints nothing and
# fails when there is none.
for candidate in "${ARM64_EMULATOR:-}" "$(dirname "$0")/../../../shared/tools/arm64-emulator.sh" \
    /work/shared/tools/arm64-emulator.sh; do
    if [ -n "$candidate" ] && [ -f "$candidate" ]; then
        echo "$candidate"
        exit 0
    fi
done
exit 1
