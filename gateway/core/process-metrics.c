/* The standard process_* series, read from /proc/self at scrape time. */
#include "gateway/core/metrics.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static guint
count_open_fds (void)
{
  DIR *dir = opendir ("/proc/self/fd");
  struct dirent *e;
  guint n = 0;

  if (!dir)
    return 0;
  while ((e = readdir (dir)))
    if (e->d_name[0] != '.')
      n++;
  closedir (dir);
  return n > 0 ? n - 1 : 0; /* the directory stream itself */
}

static double
boot_time_seconds (void)
{
  g_autofree char *stat = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/stat", &stat, NULL, NULL))
    return 0;
  line = strstr (stat, "\nbtime ");
  return line ? g_ascii_strtod (line + 7, NULL) : 0;
}

void
vg_metrics_collect_process (GString *out, gpointer user_data)
{
  g_autofree char *stat = NULL;
  double ticks = sysconf (_SC_CLK_TCK);
  double page = sysconf (_SC_PAGESIZE);
  unsigned long utime = 0, stime = 0, vsize = 0;
  long rss = 0, threads = 0;
  unsigned long long start = 0;
  struct rlimit lim = { 0 };
  const char *p;

  if (!g_file_get_contents ("/proc/self/stat", &stat, NULL, NULL))
    return;
  /* Fields after the command name, which may itself contain spaces. */
  p = strrchr (stat, ')');
  if (!p
      || sscanf (p + 2,
                 "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %ld %*d %llu "
                 "%lu %ld",
                 &utime, &stime, &threads, &start, &vsize, &rss)
             != 6)
    return;
  getrlimit (RLIMIT_NOFILE, &lim);

  g_string_append_printf (
      out,
      "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
      "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %.2f\n"
      "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
      "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %.0f\n"
      "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
      "# TYPE process_virtual_memory_bytes gauge\nprocess_virtual_memory_bytes %lu\n"
      "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n"
      "# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds %.2f\n"
      "# HELP process_open_fds Number of open file descriptors.\n"
      "# TYPE process_open_fds gauge\nprocess_open_fds %u\n"
      "# HELP process_max_fds Maximum number of open file descriptors.\n"
      "# TYPE process_max_fds gauge\nprocess_max_fds %llu\n"
      "# HELP process_threads Number of OS threads in the process.\n"
      "# TYPE process_threads gauge\nprocess_threads %ld\n",
      (utime + stime) / ticks, rss * page, vsize, boot_time_seconds () + start / ticks,
      count_open_fds (), (unsigned long long)lim.rlim_cur, threads);
}
