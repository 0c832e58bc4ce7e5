/*
 * report_cli — `cbound report RESULTS.h5`: the analysis step (scripts/report.py).
 *
 * The figures and tables are made by scripts/report.py (Debian's h5py, numpy,
 * pandas, matplotlib); this command finds the script and the system Python
 * (/usr/bin/python3, which sees Debian's packages — a `python3` earlier on PATH
 * may not) and runs it. Script location: $CBOUND_SCRIPTS, else found relative to
 * the binary itself (/proc/self/exe): BIN/../share/cbound/scripts (make install)
 * or BIN/../scripts (the build tree: build/cbound), so an installed or copied
 * tree works from any directory; no absolute path is compiled in.
 */
#include "cbound/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The directory of report.py: $CBOUND_SCRIPTS, else next to the binary. */
static void script_dir(char *out, size_t len)
{
    const char *env = getenv("CBOUND_SCRIPTS");
    if (env && env[0]) {
        snprintf(out, len, "%s", env);
        return;
    }
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) *slash = '\0';
        static const char *const rel[] = {"/../share/cbound/scripts", "/../scripts", "/scripts"};
        for (int i = 0; i < 3; ++i) {
            char probe[4200];
            snprintf(probe, sizeof probe, "%s%s/report.py", exe, rel[i]);
            if (access(probe, R_OK) == 0) {
                snprintf(out, len, "%s%s", exe, rel[i]);
                return;
            }
        }
    }
    snprintf(out, len, "scripts"); /* the current directory's, as a last resort */
}

static const char report_help[] =
    "usage: cbound report RESULTS.h5 [--out DIR] [--quiet]\n"
    "\n"
    "Turns a results file into the papers' figures (PNG) and tables (markdown), written to\n"
    "DIR (default: <RESULTS without .h5>/report/), and prints the tables. Works on partial\n"
    "files (a sweep still running or interrupted) and lists what is missing.\n"
    "\n"
    "  --out DIR   output directory\n"
    "  --quiet     do not print the tables\n"
    "\n"
    "environment: CBOUND_SCRIPTS (directory of report.py), CBOUND_PYTHON (default /usr/bin/python3)\n";

int cb_cli_report(int argc, char **argv)
{
    if (cb_cli_wants_help(argc, argv)) {
        cb_cli_print0(report_help);
        return 0;
    }
    if (argc < 2) {
        fputs(report_help, stderr);
        return 2;
    }
    char dir[4200];
    script_dir(dir, sizeof dir);
    const char *py = getenv("CBOUND_PYTHON") ? getenv("CBOUND_PYTHON") : "/usr/bin/python3";
    char script[4300];
    snprintf(script, sizeof script, "%s/report.py", dir);
    if (access(script, R_OK) != 0) {
        fprintf(stderr, "cbound: error: report script %s: %s\n  hint: set CBOUND_SCRIPTS to cbound's scripts/ directory\n",
                script, strerror(errno));
        return 1;
    }
    char **args = calloc((size_t)argc + 3, sizeof *args);
    if (!args) return 1;
    args[0] = (char *)py;
    args[1] = script;
    for (int i = 1; i < argc; ++i) args[i + 1] = argv[i];
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        execv(py, args);
        fprintf(stderr, "cbound: error: cannot run %s: %s\n  hint: apt-get install python3 python3-h5py "
                        "python3-pandas python3-matplotlib\n", py, strerror(errno));
        _exit(127);
    }
    free(args);
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0) {
        fprintf(stderr, "cbound: error: cannot start the report: %s\n", strerror(errno));
        return 1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
