/*
 * Tests for sweep (YAML -> stages and tasks), params and the task-key rules:
 * expansion order and counts, generators, the key formulas recomputed by hand
 * from their documented canonical texts, "defaults omitted" (writing a default
 * keeps the key), canonical numbers (0.50 = 0.5), error messages with
 * FILE:LINE for the paths the shell test does not reach, and CbParams.
 * (File-level behaviour — bad sweep files through `cbound run` — is in
 * tests/test_runner.sh.)
 */
#include "cbound/rng.h"
#include "cbound/sweep.h"
#include "check.h"

#include <glob.h>
#include <inttypes.h>
#include <string.h>

static const char *BASE =
    "name: unit\n"
    "seed: 7\n"
    "data: {kind: gaussian, dim: 5, n_classes: 3, teacher_width: 6, n_train: 40, n_test: 20}\n"
    "model: {depth: 3, widths: [8, 16]}\n"
    "seeds: [1, 2]\n";

/* Parse BASE + tail; returns the status, leaves the error set. */
static CbStatus parse(const char *tail, CbSweep *s)
{
    char text[4096];
    snprintf(text, sizeof text, "%s%s", BASE, tail);
    return cb_sweep_parse("unit.yaml", text, s);
}

/* Parse text expected to fail; checks the message contains `want`. */
static void expect_error(const char *label, const char *text, const char *want)
{
    CbSweep s;
    CbStatus st = cb_sweep_parse("bad.yaml", text, &s);
    CHECK(st != CB_OK && strstr(cb_err_msg(), want) != NULL, "%s: error '%s' (got status %d: '%s')", label, want,
          (int)st, cb_err_msg());
    if (st == CB_OK) cb_sweep_free(&s);
}

static uint64_t hash_text(const char *t) { return cb_rng_hash64(t, strlen(t), CB_RNG_HASH_INIT); }

int main(int argc, char **argv)
{
    check_begin(&argc, &argv);
    CbSweep s;

    /* Expansion: 2 widths x 2 seeds = 4 stages; noop with i in 3 values = 12 tasks,
     * ordered stage (width, seed), then grid point. */
    {
        CbStatus st = parse("methods:\n  - name: noop\n    grid: {i: [0, 1, 2]}\n", &s);
        CHECK(st == CB_OK, "base sweep parses (%s)", cb_err_msg());
        CHECK(s.n_stages == 4 && s.n_tasks == 12, "4 stages, 12 tasks (got %d, %d)", s.n_stages, s.n_tasks);
        CHECK(s.stages[1].width == 8 && s.stages[1].seed == 2 && s.stages[2].width == 16 && s.stages[2].seed == 1,
              "stage order: width major, seed minor");
        CHECK(s.tasks[4].stage == 1 && !strcmp(s.tasks[4].params_text, "i=1"), "task 4 = stage 1, i=1 (got %d, %s)",
              s.tasks[4].stage, s.tasks[4].params_text);
        CHECK(!strcmp(s.output, "results/unit.h5") && !strcmp(s.dir, "results/unit"), "default output %s, dir %s",
              s.output, s.dir);
        CHECK(s.stages[0].spec.depth == 3 && s.stages[0].spec.widths[1] == 8 && s.stages[0].spec.widths[2] == 8 &&
                  s.stages[0].spec.widths[0] == 0 && s.stages[0].spec.widths[3] == 0,
              "stage spec: hidden layers at the width, ends from the data");
        CHECK(s.base.data.seed == 7, "gaussian data seed defaults to the sweep seed");

        /* Stage key = hash(canonical spec text + "seed: N\n"), recomputed here. */
        char *spec = cb_model_spec_text(&s.stages[3].spec, 0);
        char text[4096];
        snprintf(text, sizeof text, "%sseed: 2\n", spec);
        free(spec);
        char hex[17];
        snprintf(hex, sizeof hex, "%016" PRIx64, hash_text(text));
        CHECK(!strcmp(hex, s.stages[3].key_hex), "stage key = hash of its canonical text (%s vs %s)", hex,
              s.stages[3].key_hex);
        CHECK(s.stages[0].key != s.stages[1].key && s.stages[0].key != s.stages[2].key, "stage keys differ");
        char want[17];
        snprintf(text, sizeof text, "method=noop;v=1;stage=%s;sweep_seed=7;i=2", s.stages[3].key_hex);
        snprintf(want, sizeof want, "%016" PRIx64, hash_text(text));
        CHECK(!strcmp(want, s.tasks[11].key_hex), "task key = hash('%s') = %s (got %s)", text, want,
              s.tasks[11].key_hex);
        CHECK(cb_sweep_find_task(&s, s.tasks[7].key_hex) == 7 && cb_sweep_find_task(&s, "0000000000000000") == -1,
              "find_task by key");
        CHECK(strstr(s.stages[0].model_path, "results/unit/models/") == s.stages[0].model_path,
              "model files under DIR/models/");

        /* Writing defaults explicitly keeps every key; canonical numbers. */
        CbSweep d;
        st = parse("train: {lr: 0.020, epochs: 10}\nmeasure: {norms: true, norm_rtol: 1e-9}\n"
                   "methods:\n  - name: noop\n    grid: {i: [0.0, 1.00, 2], spin_ms: 0, fail: none}\n",
                   &d);
        CHECK(st == CB_OK, "defaults-written sweep parses (%s)", cb_err_msg());
        int same = st == CB_OK && d.n_tasks == s.n_tasks;
        for (int i = 0; same && i < s.n_tasks; ++i) same = d.tasks[i].key == s.tasks[i].key;
        for (int k = 0; same && k < s.n_stages; ++k) same = d.stages[k].key == s.stages[k].key;
        CHECK(same, "writing default values (lr 0.020, spin_ms 0, fail none, norms true) keeps all keys");
        CHECK(st == CB_OK && !strcmp(d.tasks[1].params_text, "i=1"), "1.00 -> '1' and defaults left out (%s)",
              st == CB_OK ? d.tasks[1].params_text : "");
        if (st == CB_OK) cb_sweep_free(&d);

        /* Changing a setting changes keys: lr (stage and task), sweep seed (task),
         * a measure option (task only). */
        st = parse("train: {lr: 0.03}\nmethods:\n  - name: noop\n    grid: {i: [0, 1, 2]}\n", &d);
        CHECK(st == CB_OK && d.stages[0].key != s.stages[0].key && d.tasks[0].key != s.tasks[0].key,
              "another lr: new stage and task keys");
        if (st == CB_OK) cb_sweep_free(&d);
        st = parse("measure: {sketch: true}\nmethods:\n  - name: noop\n    grid: {i: [0, 1, 2]}\n", &d);
        CHECK(st == CB_OK && d.stages[0].key == s.stages[0].key && d.tasks[0].key != s.tasks[0].key &&
                  !strcmp(d.measures[0].text, "measure.sketch=1"),
              "a measure option changes task keys, not stage keys (%s)", st == CB_OK ? d.measures[0].text : "");
        if (st == CB_OK) cb_sweep_free(&d);
        cb_sweep_free(&s);
    }

    /* Fashion-MNIST: stage keys do not depend on the sweep seed; task keys do. */
    {
        CbSweep a, b;
        const char *fa = "seed: 1\nmodel: {widths: [4]}\nmethods: [{name: noop}]\n";
        const char *fb = "seed: 2\nmodel: {widths: [4]}\nmethods: [{name: noop}]\n";
        CbStatus sa = cb_sweep_parse("a.yaml", fa, &a), sb = cb_sweep_parse("b.yaml", fb, &b);
        CHECK(sa == CB_OK && sb == CB_OK, "minimal sweeps parse");
        CHECK(a.stages[0].key == b.stages[0].key && a.tasks[0].key != b.tasks[0].key && a.base.data.seed == 0,
              "fashion-mnist: model shared across sweep seeds, tasks not");
        CHECK(!strcmp(a.name, "a") && a.n_seeds == 1 && a.seeds[0] == 1, "name from the file, seeds default [1]");
        cb_sweep_free(&a);
        cb_sweep_free(&b);
    }

    /* Generators and the cartesian product (first axis slowest). */
    {
        CbStatus st = parse("methods:\n  - name: noop\n    grid:\n      i: {linspace: [0.1, 10, 20]}\n"
                            "      spin_ms: {range: [0, 10, 3]}\n",
                            &s);
        CHECK(st == CB_OK && s.n_tasks == 4 * 20 * 4, "linspace(0.1, 10, 20) x range(0, 10, 3) x 4 stages = %d",
              st == CB_OK ? s.n_tasks : -1);
        if (st == CB_OK) {
            CHECK(!strcmp(s.tasks[0].params_text, "i=0.1") && !strcmp(s.tasks[1].params_text, "i=0.1;spin_ms=3") &&
                      !strcmp(s.tasks[3].params_text, "i=0.1;spin_ms=9") &&
                      !strcmp(s.tasks[79].params_text, "i=10;spin_ms=9"),
                  "grid order and values: %s | %s | %s", s.tasks[1].params_text, s.tasks[3].params_text,
                  s.tasks[79].params_text);
            CHECK(cb_params_num(&s.tasks[4].params, "i", 0) == 0.621052631579 &&
                      !strcmp(cb_params_text(&s.tasks[4].params, "i", ""), "0.621052631579"),
                  "linspace second value 0.1 + 9.9/19 rounded to 12 significant digits: %s",
                  cb_params_text(&s.tasks[4].params, "i", ""));
            cb_sweep_free(&s);
        }
        st = cb_sweep_parse("h.yaml", "model: {hidden_layers: 4, widths: [3]}\nmethods: [{name: noop}]\n", &s);
        CHECK(st == CB_OK && s.base.depth == 5, "hidden_layers 4 -> depth 5");
        if (st == CB_OK) cb_sweep_free(&s);
    }

    /* Errors not reached by tests/test_runner.sh, each with FILE:LINE and the key. */
    {
        char t[4096];
#define BAD(label, tail, want)                                                                 \
    do {                                                                                       \
        snprintf(t, sizeof t, "%s%s", BASE, tail);                                             \
        expect_error(label, t, want);                                                          \
    } while (0)
        BAD("range step 0", "methods:\n  - name: noop\n    grid: {i: {range: [0, 5, 0]}}\n",
            "bad.yaml:8: key 'methods[0].grid.i': expected [start, stop] or [start, stop, step]");
        BAD("empty range", "methods:\n  - name: noop\n    grid: {i: {range: [5, 1]}}\n",
            "bad.yaml:8: key 'methods[0].grid.i': expected a range with at least one value");
        BAD("unknown generator", "methods:\n  - name: noop\n    grid: {i: {logspace: [0, 1, 3]}}\n",
            "key 'methods[0].grid.i': expected a generator: linspace or range, found 'logspace'");
        BAD("too many tasks", "methods:\n  - name: noop\n    grid: {i: {range: [0, 5000]}, spin_ms: {range: [0, 3000]}}\n",
            "bad.yaml:6: key 'methods': the sweep expands to more than 10,000,000 tasks");
        BAD("method entry not a mapping", "methods: [noop]\n",
            "bad.yaml:6: key 'methods[0]': expected a mapping {name: METHOD, grid: {...}}, found 'noop'");
        BAD("method without name", "methods:\n  - grid: {i: 1}\n", "bad.yaml:7: key 'methods[0].name': missing");
        BAD("unknown method key", "methods:\n  - name: noop\n    gird: {i: 1}\n",
            "bad.yaml:8: key 'methods[0].gird': unknown or repeated key");
        BAD("grid not a mapping", "methods:\n  - name: noop\n    grid: [1, 2]\n",
            "bad.yaml:8: key 'methods[0].grid': expected a mapping of parameter: values, found a list");
        BAD("empty grid list", "methods:\n  - name: noop\n    grid: {i: []}\n",
            "key 'methods[0].grid.i': expected a non-empty list");
        BAD("separator in a value", "methods:\n  - name: noop\n    grid: {i: \"a;b\"}\n",
            "without ';', '=' or newlines");
        BAD("nested list value", "methods:\n  - name: noop\n    grid: {i: [[1]]}\n",
            "key 'methods[0].grid.i': expected a number or a word, found a list");
        BAD("repeated grid parameter", "methods:\n  - name: noop\n    grid: {i: 1, i: 2}\n",
            "key 'methods[0].grid.i': appears twice");
        BAD("methods not a list", "methods: {name: noop}\n", "key 'methods': expected a list of {name, grid}, found a mapping");
        BAD("methods empty", "methods: []\n", "key 'methods': expected a non-empty list");
        expect_error("depth 1 with two widths", "model: {depth: 1, widths: [3, 4]}\nmethods: [{name: noop}]\n",
            "key 'model.widths': expected one entry for depth 1");
        BAD("bad bool", "measure: {norms: yes please}\nmethods: [{name: noop}]\n",
            "key 'measure.norms': expected one of false, true, found 'yes please'");
        expect_error("features kind", "data: {features: sift}\nmodel: {widths: [3]}\nmethods: [{name: noop}]\n",
            "bad.yaml:1: key 'data.features': expected one of none, conv, conv_abs, found 'sift'");
        expect_error("features on csv", "data:\n  kind: csv\n  path: x.csv\n  features: conv\nmodel: {widths: [3]}\nmethods: [{name: noop}]\n",
            "bad.yaml:4: key 'data.features': expected image data (fashion-mnist, mnist or cifar10), found kind csv");
        expect_error("conv gain not bfloat16", "data:\n  features: conv\n  conv_gain: 0.1\nmodel: {widths: [3]}\nmethods: [{name: noop}]\n",
            "bad.yaml:3: key 'data.conv_gain': expected a finite bfloat16 value > 0");
        expect_error("conv pool not dividing 24", "data:\n  features: conv\n  conv_pool: 5\nmodel: {widths: [3]}\nmethods: [{name: noop}]\n",
            "bad.yaml:3: key 'data.conv_pool': expected a divisor of the convolution's 24 x 24 outputs");
        expect_error("conv filters 0", "data: {features: conv, conv_filters: 0}\nmodel: {widths: [3]}\nmethods: [{name: noop}]\n",
            "key 'data.conv_filters': expected an integer in [1, 4096], found '0'");
        {
            /* features on: data.seed follows the sweep seed; the settings enter the stage key */
            CbSweep f0, f1;
            CbStatus a = cb_sweep_parse("f.yaml", "name: f\nseed: 77\ndata: {features: conv}\nmodel: {widths: [3]}\nmethods: [{name: noop}]\n", &f0);
            CbStatus b = cb_sweep_parse("f.yaml", "name: f\nseed: 77\ndata: {features: conv, conv_gain: 12}\nmodel: {widths: [3]}\nmethods: [{name: noop}]\n", &f1);
            CHECK(a == CB_OK && b == CB_OK && f0.stages[0].spec.data.seed == 77 && !strcmp(f0.stages[0].spec.data.features, "conv") &&
                      f0.stages[0].key != f1.stages[0].key && f1.stages[0].spec.data.conv_gain == 12,
                  "data.features conv: data.seed = sweep seed 77, conv_gain in the stage key (%s)", cb_err_msg());
            if (a == CB_OK) cb_sweep_free(&f0);
            if (b == CB_OK) cb_sweep_free(&f1);
        }
        expect_error("bad activation", "model: {activation: gelu}\nmethods: [{name: noop}]\n",
            "key 'model.activation': expected relu, identity, tanh or softplus, found 'gelu'");
        expect_error("bad init", "model: {init: xavier}\nmethods: [{name: noop}]\n",
            "key 'model.init': expected one of kaiming, gaussian, found 'xavier'");
        BAD("bad opt", "train: {opt: lbfgs}\nmethods: [{name: noop}]\n", "key 'train.opt': expected one of sgd, adam");
        expect_error("bad scale", "data: {scale: minmax}\nmodel: {widths: [3]}\nmethods: [{name: noop}]\n",
                     "bad.yaml:1: key 'data.scale': expected none, unit, standardize, auto or signed, found 'minmax'");
        BAD("too many drops", "train: {drops: [1, 2, 3, 4, 5, 6, 7, 8, 9]}\nmethods: [{name: noop}]\n",
            "key 'train.drops': expected a list of at most 8 entries");
        expect_error("duplicate seeds", "methods: [{name: noop}]\nseeds: [3,\n 3]\n",
                     "bad.yaml:3: key 'seeds[1]': expected distinct values");
        BAD("section not a mapping", "train: 5\nmethods: [{name: noop}]\n", "key 'train': expected a mapping, found '5'");
        BAD("string too long", "output: results/" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.h5\n",
            "key 'output': expected a string of at most 1023 characters");
        expect_error("name with a space", "name: \"a b\"\nmodel: {widths: [3]}\nmethods: [{name: noop}]\n",
                     "bad.yaml:1: key 'name': expected letters, digits, '-', '_' or '.', found 'a b'");
#undef BAD
        expect_error("top level not a mapping", "- 1\n- 2\n", "bad.yaml:1: key '(top level)': expected a mapping, found a list");
        expect_error("bad sweep name", "name: \"a/b\"\nmodel: {widths: [4]}\nmethods: [{name: noop}]\n",
                     "bad.yaml:1: key 'name': expected letters, digits, '-', '_' or '.', found 'a/b'");
        expect_error("non-scalar key", "? [a]\n: 1\n", "expected a key name");
        CbStatus st = cb_sweep_load("/nonexistent/sweep.yaml", &s);
        CHECK(st == CB_EIO && strstr(cb_err_msg(), "/nonexistent/sweep.yaml: cannot open the sweep file"),
              "missing sweep file: %s", cb_err_msg());
    }

    /* CbParams: sorted insertion, replace, numbers, limits. */
    {
        CbParams p = {0};
        CHECK(cb_params_set(&p, "zeta", "2.385") == CB_OK && cb_params_set(&p, "alpha", "code") == CB_OK &&
                  cb_params_set(&p, "mid", "-7e-3") == CB_OK,
              "params set");
        CHECK(p.n == 3 && !strcmp(p.item[0].name, "alpha") && !strcmp(p.item[2].name, "zeta"), "params sorted");
        CHECK(cb_params_num(&p, "zeta", 0) == 2.385 && isnan(cb_params_num(&p, "alpha", 0)) &&
                  cb_params_num(&p, "none", 4.5) == 4.5 && cb_params_num(&p, "mid", 0) == -7e-3,
              "params numbers (NaN for words, default when absent)");
        CHECK(cb_params_set(&p, "zeta", "3") == CB_OK && p.n == 3 && cb_params_num(&p, "zeta", 0) == 3, "replace");
        CHECK(!strcmp(cb_params_text(&p, "alpha", "x"), "code") && !strcmp(cb_params_text(&p, "q", "x"), "x") &&
                  cb_params_has(&p, "mid") && !cb_params_has(&p, "q"),
              "params text/has");
        char longname[64], longval[128];
        memset(longname, 'n', 40);
        longname[40] = '\0';
        memset(longval, 'v', 100);
        longval[100] = '\0';
        CHECK(cb_params_set(&p, longname, "1") == CB_EINVAL && strstr(cb_err_msg(), "too long"), "name too long");
        CHECK(cb_params_set(&p, "x", longval) == CB_EINVAL && strstr(cb_err_msg(), "too long"), "value too long");
        CbParams full = {0};
        char nm[8];
        for (int i = 0; i < 16; ++i) {
            snprintf(nm, sizeof nm, "p%02d", i);
            cb_params_set(&full, nm, "1");
        }
        CHECK(cb_params_set(&full, "p99", "1") == CB_EINVAL && strstr(cb_err_msg(), "too many parameters"),
              "17th parameter refused");
    }

    /* Every shipped sweep validates (data files are checked at run time: MNIST is the
     * user's own copy). Run from the repository root, as tests/run.sh does. */
    {
        glob_t g;
        int found = glob("jobs/sweeps/*.yaml", 0, NULL, &g) == 0 ? (int)g.gl_pathc : 0;
        CHECK(found >= 5, "jobs/sweeps/ holds the shipped sweeps (%d)", found);
        for (int i = 0; i < found; ++i) {
            CbStatus st = cb_sweep_load(g.gl_pathv[i], &s);
            /* a sweep over model files a documented command makes (byom-digits.yaml) validates up
             * to those files, and says which one is missing */
            int needs_files = st != CB_OK && strstr(cb_err_msg(), "key 'model.file'") && strstr(cb_err_msg(), "no such file");
            CHECK((st == CB_OK && s.n_tasks > 0) || needs_files, "%s validates: %d tasks (%s)", g.gl_pathv[i],
                  st == CB_OK ? s.n_tasks : 0, st == CB_OK ? "ok" : cb_err_msg());
            if (st == CB_OK) cb_sweep_free(&s);
        }
        if (found) globfree(&g);
    }

    /* The schema table prints every setting. */
    {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        cb_sweep_print_schema(f);
        fclose(f);
        CHECK(strstr(buf, "| `train.lr` | number | 0.02 | a number > 0 |") != NULL &&
                  strstr(buf, "| `data.test_fraction` | number | 0.2 | a number in (0, 1) |") != NULL,
              "schema rows with defaults from cb_model_spec_default");
        free(buf);
    }
    return check_end("sweep");
}
