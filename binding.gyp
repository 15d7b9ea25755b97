{
  "variables": {
    "have_dpdk%": "<!(node dpdk-binding/gyp-config.js have libdpdk)",
    "have_xdp%": "<!(node dpdk-binding/gyp-config.js have libxdp)",
    "have_pcap%": "<!(node dpdk-binding/gyp-config.js have libpcap)"
  },
  "targets": [
    {
      "target_name": "tickpath",
      "sources": [
        "dpdk-binding/src/glue.cc",
        "dpdk-binding/src/port.cc",
        "dpdk-binding/src/platform.cc",
        "dpdk-binding/src/backends.cc",
        "dpdk-binding/src/backend_pcap.cc",
        "dpdk-binding/src/backend_udp.cc",
        "dpdk-binding/src/backend_af_packet.cc",
        "dpdk-binding/src/journal_file.cc",
        "dpdk-binding/src/journal_glue.cc",
        "dpdk-binding/src/tcp_channel.cc",
        "dpdk-binding/src/tcp_glue.cc",
        "dpdk-binding/src/bpf_glue.cc",
        "dpdk-binding/src/gc_glue.cc",
        "dpdk-binding/src/hugepage_glue.cc"
      ],
      "include_dirs": ["<!(node -e \"require('nan')\")"],
      "cflags_cc": ["-std=c++17", "-O2", "-g", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-cast-function-type"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "libraries": ["-lpthread"],
      "conditions": [
        ["have_dpdk==1", {
          "defines": ["TICKPATH_HAVE_DPDK"],
          "sources": ["dpdk-binding/src/dpdk_env.cc", "dpdk-binding/src/backend_dpdk.cc"],
          "cflags_cc": ["<!@(node dpdk-binding/gyp-config.js cflags libdpdk)"],
          "libraries": ["<!@(node dpdk-binding/gyp-config.js libs libdpdk)"]
        }],
        ["have_pcap==1", {
          "defines": ["TICKPATH_HAVE_PCAP"],
          "cflags_cc": ["<!@(node dpdk-binding/gyp-config.js cflags libpcap)"],
          "libraries": ["<!@(node dpdk-binding/gyp-config.js libs libpcap)"]
        }],
        ["have_xdp==1", {
          "defines": ["TICKPATH_HAVE_XDP"],
          "sources": ["dpdk-binding/src/backend_af_xdp.cc"],
          "cflags_cc": ["<!@(node dpdk-binding/gyp-config.js cflags libxdp)", "<!@(node dpdk-binding/gyp-config.js cflags libbpf)"],
          "libraries": ["<!@(node dpdk-binding/gyp-config.js libs libxdp)", "<!@(node dpdk-binding/gyp-config.js libs libbpf)"]
        }]
      ]
    }
  ]
}
