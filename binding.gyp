# Build description for torchbridge's own POSIX shared-memory addon (see DESIGN.md §4).
# Built by scripts/build-addon.mjs (run on `npm install`) with node-gyp.
{
  "targets": [
    {
      "target_name": "torchbridge_shm",
      "sources": ["native/shm.cc"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS"
      ],
      "cflags": ["-fno-exceptions"],
      "cflags_cc": ["-fno-exceptions", "-std=c++17"],
      "conditions": [
        ["OS=='linux'", {
          # glibc < 2.34 keeps shm_open/shm_unlink in librt; newer glibc ships an empty stub.
          "libraries": ["-lrt"]
        }],
        ["OS=='mac'", {
          "xcode_settings": {
            "GCC_ENABLE_CPP_EXCEPTIONS": "NO",
            "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
            "MACOSX_DEPLOYMENT_TARGET": "10.15"
          }
        }]
      ]
    }
  ]
}
