/* See opus-size-cache.h. */
#include "gateway/workarounds/opus-size-cache.h"
#include <dlfcn.h>

/* The soname of libopus since 1.0. */
#define VG_LIBOPUS_SONAME "libopus.so.0"

typedef int (*GetSizeFunc) (int channels);

typedef struct
{
  const char *symbol;
  GetSizeFunc real; /* resolved once */
  gint size[3];     /* by channel count 1..2; 0: not known yet */
} SizeCache;

static SizeCache encoder_cache = { "opus_encoder_get_size" };
static SizeCache decoder_cache = { "opus_decoder_get_size" };
static guint64 hits;

static int
cached_size (SizeCache *cache, int channels)
{
  if (channels == 1 || channels == 2)
    {
      gint size = g_atomic_int_get (&cache->size[channels]);
      if (size > 0)
        {
          __atomic_fetch_add (&hits, 1, __ATOMIC_RELAXED);
          return size;
        }
    }
  GetSizeFunc real = g_atomic_pointer_get (&cache->real);
  if (!real)
    {
      /* GStreamer loads plugins, and so libopus, with RTLD_LOCAL: RTLD_NEXT
       * does not see it. A handle to the library (already loaded: it is
       * the caller) finds its own definition. The handle is kept. */
      void *lib = dlopen (VG_LIBOPUS_SONAME, RTLD_NOW | RTLD_LOCAL);
      real = lib ? (GetSizeFunc)dlsym (lib, cache->symbol) : NULL;
      if (!real)
        g_error ("opus-size-cache: %s not found in %s: %s", cache->symbol, VG_LIBOPUS_SONAME,
                 dlerror ());
      g_atomic_pointer_set (&cache->real, real);
    }
  int size = real (channels);
  if ((channels == 1 || channels == 2) && size > 0)
    g_atomic_int_set (&cache->size[channels], size);
  return size;
}

/* The exported overrides: same names and signatures as libopus's. */
int opus_encoder_get_size (int channels);
int opus_decoder_get_size (int channels);

int
opus_encoder_get_size (int channels)
{
  return cached_size (&encoder_cache, channels);
}

int
opus_decoder_get_size (int channels)
{
  return cached_size (&decoder_cache, channels);
}

guint64
vg_opus_size_cache_hits (void)
{
  return __atomic_load_n (&hits, __ATOMIC_RELAXED);
}
