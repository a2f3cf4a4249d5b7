/* WORKAROUND for libopus 1.3.1 as Debian 12 builds it; remove once the
 * upstream fix is in the libopus the gateway runs on. Upstream report:
 * none found in libopus's tracker or Debian's (searched 2026-12-02); the
 * report to file, with the measurement, is docs/upstream/libopus-get-size-cpuid.md.
 *
 * Cached opus_encoder_get_size / opus_decoder_get_size for the processes
 * that encode and decode many Opus streams (the gateway, the load client).
 *
 * libopus's multistream API, which GStreamer's opusenc and opusdec use,
 * calls opus_{en,de}coder_get_size on every encode, decode and ctl call, and
 * Debian's build (custom modes enabled) runs CPUID twice inside each of
 * them. In a virtual machine every CPUID traps to the hypervisor: measured
 * here, 10 % of the gateway's CPU at 25 sessions. The sizes depend only on
 * the channel count, so the executable defines both functions, exports them
 * (-Wl,--export-dynamic-symbol), and libopus's calls, which go through its
 * PLT, reach these: the real function runs once per channel count.
 *
 * Compile opus-size-cache.c into the executable itself (not a static
 * library, whose object nothing references) with vg_opus_size_cache_link_args. */
#pragma once

#include <glib.h>

/* How many calls were answered from the cache (tests: proves libopus's own
 * calls reach this file). */
guint64 vg_opus_size_cache_hits (void);
