/*
 * report_cli — `cbound report RESULTS.h5`: the analysis step (issue 8).
 *
 * The figures and tables are made by scripts/report.py (Debian's h5py, numpy,
 * pandas, matplotlib); this command finds the script and the system Python
 * (/usr/bin/python3, which sees Debian's packages — a `python3` earlier on PATH
 * may not) and runs it. Script location: $CBOUND_SCRIPTS, else the source
 * tree's scripts/ directory recorded at build time (CB_SCRIPT_DIR).
 */
#include "cbound/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CB_SCRIPT_DIR
#define CB_SCRIPT_DIR "scripts"
#endif

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
    const char *dir = getenv("CBOUND_SCRIPTS") ? getenv("CBOUND_SCRIPTS") : CB_SCRIPT_DIR;
    const char *py = getenv("CBOUND_PYTHON") ? getenv("CBOUND_PYTHON") : "/usr/bin/python3";
    char script[4096];
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
