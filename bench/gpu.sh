#!/usr/bin/env bash
# Stage-2 ranking latency on webgpu vs cpu (2k and 20k candidates).
# Needs: a Node >= 20 binary (set NODE=/path/to/node if `node` is not on PATH)
# and, for webgpu on Linux, the Vulkan loader libvulkan.so.1 (Debian: libvulkan1;
# a copy carried alongside works: LD_LIBRARY_PATH=/dir/with/libvulkan) plus an
# NVIDIA driver with its Vulkan ICD. Build first where npm exists (npm run build),
# then carry dist/ (it holds onnxruntime-node and the model) with this script.
set -euo pipefail
cd "$(dirname "$0")/.."
NODE="${NODE:-$(command -v node || true)}"
if [ -z "$NODE" ]; then echo "bench:gpu needs Node >= 20: set NODE=/path/to/node" >&2; exit 2; fi
if ! { ldconfig -p 2>/dev/null | grep -q libvulkan.so.1; } && ! ls ${LD_LIBRARY_PATH//:/ } 2>/dev/null | grep -q libvulkan.so.1; then
  echo "note: libvulkan.so.1 not found (Debian package libvulkan1, or put it on LD_LIBRARY_PATH); webgpu will fall back to cpu" >&2
fi
if [ ! -f dist/gpu-rank.js ]; then
  if [ -x node_modules/.bin/esbuild ]; then
    node scripts/build.mjs
    node_modules/.bin/esbuild bench/gpu-rank.ts --bundle --platform=node --target=node20 --external:onnxruntime-node --outfile=dist/gpu-rank.js --log-level=warning
  else
    echo "dist/gpu-rank.js missing: run bench/gpu.sh once where npm dependencies are installed, then carry dist/" >&2; exit 2
  fi
fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version --format=csv,noheader || true
exec "$NODE" dist/gpu-rank.js
