/*
 * train_cli — `cbound train [options] -o MODEL.h5`: load data, train an MLP,
 * save the model file (atomically), print its summary.
 *
 * Settings start from the defaults (cb_model_spec_default), then --config FILE
 * (the "key: value" text `cbound info` prints under "training config"), then the
 * command-line options in order. The stream key of the stage is
 * cb_model_spec_key (hash of the canonical settings text), so the same settings
 * and --seed give the same model bytes. Serial: under mpirun, rank 0 trains and
 * the other ranks wait.
 */
#include "cbound/cli.h"
#include "cbound/features.h"
#include "cbound/model.h"

#include <getopt.h>
#include <inttypes.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char USAGE[] =
    "usage: cbound train [options] -o MODEL.h5\n"
    "\n"
    "Trains an MLP and saves it as a cbound model file (see `cbound info`). Every setting also\n"
    "takes the sweep's name: --data.kind, --data.path, --data.n_train, --model.layers,\n"
    "--model.activation, --train.lr, --train.epochs, ... (`cbound run --schema`).\n"
    "  -o, --output FILE     model file to write (refuses to overwrite without --force)\n"
    "  --force               overwrite an existing output file\n"
    "  --config FILE         settings as 'key: value' lines (the 'training config' of `cbound info`);\n"
    "                        options below override it\n"
    "data:\n"
    "  --data KIND           fashion-mnist (default), mnist, cifar10, csv, gaussian\n"
    "  --data-path PATH      directory (IDX, CIFAR-10) or file (csv); default: Debian's Fashion-MNIST\n"
    "  --n-train N, --n-test N   use the first N samples (0 = all)\n"
    "  --scale S             auto (default), none, unit, signed, standardize\n"
    "  --target COL          csv: target column (name or index; default last)\n"
    "  --regression          csv / gaussian: real-valued target, MSE loss\n"
    "  --dim D --teacher-width W --noise S   gaussian teacher data (with --classes K or --regression)\n"
    "  --data-seed S         seed of the data streams (gaussian data, random subsets; default 0)\n"
    "  --features F          none (default) | conv | conv_abs: a fixed random conv feature map in front\n"
    "                        of the MLP (docs/data.md);  --conv-filters N (16) --conv-pool P (4) --conv-gain G (10)\n"
    "model:\n"
    "  --layers W0,W1,...,WL every width, input first (0 = from the data), as the sweep's\n"
    "                        model.layers; default 0,784,0\n"
    "  --depth L --width W   L linear layers of hidden width W (input and output from the data)\n"
    "  --classes K           output width (default: from the data)\n"
    "  --act A               relu (default), tanh, identity, softplus;  --beta B  softplus sharpness\n"
    "  --bias / --no-bias    layers with biases (default) or without\n"
    "  --init I              kaiming (PyTorch default) or gaussian;  --sigma S  W ~ N(0, S^2/fan_in)\n"
    "training:\n"
    "  --loss ce|mse         default: ce for labels, mse for regression\n"
    "  --opt sgd|adam        (default sgd)   --lr LR (0.02)   --momentum M   --weight-decay WD\n"
    "  --epochs N (10)       --batch B (256)\n"
    "  --drops E1,E2,..      multiply lr by --drop-factor F (0.1) at these epochs\n"
    "  --stop-ce C           stop when the training cross-entropy is below C (e.g. 0.01)\n"
    "  --seed S              stream seed (init, shuffling); default 0\n"
    "  --quiet               no per-epoch lines\n";

enum {
    O_FORCE = 256, O_CONFIG, O_DATA, O_DATA_PATH, O_N_TRAIN, O_N_TEST, O_SCALE, O_TARGET, O_REGRESSION, O_DIM,
    O_TEACHER, O_NOISE, O_DATA_SEED, O_WIDTHS, O_DEPTH, O_WIDTH, O_CLASSES, O_ACT, O_BETA, O_BIAS, O_NO_BIAS,
    O_INIT, O_SIGMA, O_LOSS, O_OPT, O_LR, O_MOMENTUM, O_WD, O_EPOCHS, O_BATCH, O_DROPS, O_DROP_FACTOR, O_STOP_CE,
    O_SEED, O_QUIET, O_FEATURES, O_CONV_FILTERS, O_CONV_POOL, O_CONV_GAIN
};

static const struct option OPTS[] = {
    {"output", required_argument, NULL, 'o'}, {"force", no_argument, NULL, O_FORCE},
    {"config", required_argument, NULL, O_CONFIG}, {"data", required_argument, NULL, O_DATA},
    {"data-path", required_argument, NULL, O_DATA_PATH}, {"n-train", required_argument, NULL, O_N_TRAIN},
    {"n-test", required_argument, NULL, O_N_TEST}, {"scale", required_argument, NULL, O_SCALE},
    {"target", required_argument, NULL, O_TARGET}, {"regression", no_argument, NULL, O_REGRESSION},
    {"dim", required_argument, NULL, O_DIM}, {"teacher-width", required_argument, NULL, O_TEACHER},
    {"noise", required_argument, NULL, O_NOISE}, {"data-seed", required_argument, NULL, O_DATA_SEED},
    {"layers", required_argument, NULL, O_WIDTHS}, {"widths", required_argument, NULL, O_WIDTHS}, {"depth", required_argument, NULL, O_DEPTH},
    {"width", required_argument, NULL, O_WIDTH}, {"classes", required_argument, NULL, O_CLASSES},
    {"act", required_argument, NULL, O_ACT}, {"beta", required_argument, NULL, O_BETA},
    {"bias", no_argument, NULL, O_BIAS}, {"no-bias", no_argument, NULL, O_NO_BIAS},
    {"init", required_argument, NULL, O_INIT}, {"sigma", required_argument, NULL, O_SIGMA},
    {"loss", required_argument, NULL, O_LOSS}, {"opt", required_argument, NULL, O_OPT},
    {"lr", required_argument, NULL, O_LR}, {"momentum", required_argument, NULL, O_MOMENTUM},
    {"weight-decay", required_argument, NULL, O_WD}, {"epochs", required_argument, NULL, O_EPOCHS},
    {"batch", required_argument, NULL, O_BATCH}, {"drops", required_argument, NULL, O_DROPS},
    {"drop-factor", required_argument, NULL, O_DROP_FACTOR}, {"stop-ce", required_argument, NULL, O_STOP_CE},
    {"seed", required_argument, NULL, O_SEED}, {"quiet", no_argument, NULL, O_QUIET},
    {"features", required_argument, NULL, O_FEATURES}, {"conv-filters", required_argument, NULL, O_CONV_FILTERS},
    {"conv-pool", required_argument, NULL, O_CONV_POOL}, {"conv-gain", required_argument, NULL, O_CONV_GAIN},
    /* the sweep's names for the same settings (one vocabulary: `cbound run --schema`) */
    {"data.kind", required_argument, NULL, O_DATA}, {"data.path", required_argument, NULL, O_DATA_PATH},
    {"data.n_train", required_argument, NULL, O_N_TRAIN}, {"data.n_test", required_argument, NULL, O_N_TEST},
    {"data.scale", required_argument, NULL, O_SCALE}, {"data.target", required_argument, NULL, O_TARGET},
    {"data.dim", required_argument, NULL, O_DIM}, {"data.teacher_width", required_argument, NULL, O_TEACHER},
    {"data.noise", required_argument, NULL, O_NOISE}, {"data.seed", required_argument, NULL, O_DATA_SEED},
    {"data.n_classes", required_argument, NULL, O_CLASSES}, {"model.layers", required_argument, NULL, O_WIDTHS},
    {"data.features", required_argument, NULL, O_FEATURES}, {"data.conv_filters", required_argument, NULL, O_CONV_FILTERS},
    {"data.conv_pool", required_argument, NULL, O_CONV_POOL}, {"data.conv_gain", required_argument, NULL, O_CONV_GAIN},
    {"model.depth", required_argument, NULL, O_DEPTH}, {"model.activation", required_argument, NULL, O_ACT},
    {"model.beta", required_argument, NULL, O_BETA}, {"model.init", required_argument, NULL, O_INIT},
    {"model.sigma", required_argument, NULL, O_SIGMA}, {"train.opt", required_argument, NULL, O_OPT},
    {"train.lr", required_argument, NULL, O_LR}, {"train.momentum", required_argument, NULL, O_MOMENTUM},
    {"train.weight_decay", required_argument, NULL, O_WD}, {"train.epochs", required_argument, NULL, O_EPOCHS},
    {"train.batch", required_argument, NULL, O_BATCH}, {"train.drops", required_argument, NULL, O_DROPS},
    {"train.drop_factor", required_argument, NULL, O_DROP_FACTOR}, {"train.stop_ce", required_argument, NULL, O_STOP_CE},
    {NULL, 0, NULL, 0}};

/* "a,b,c" -> values; exits with a usage error naming the option. */
static int parse_csv_list(const char *opt, const char *v, long *out, int max, long lo)
{
    int n = 0;
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", v);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (n == max) {
            fprintf(stderr, "cbound train: error: option %s takes at most %d values, got more in '%s'\n", opt, max, v);
            exit(2);
        }
        out[n++] = cb_cli_long(opt, tok, lo, 100000000);
    }
    return n;
}

static int choose(const char *opt, const char *v, const char *a, const char *b)
{
    if (!strcmp(v, a)) return 0;
    if (!strcmp(v, b)) return 1;
    fprintf(stderr, "cbound train: error: option %s expects %s or %s, got '%s'\n", opt, a, b, v);
    exit(2);
}

/* Read --config FILE into s (before the other options). */
static CbStatus read_config(const char *path, CbTrainSpec *s)
{
    FILE *f = fopen(path, "r");
    if (!f) return CB_ERR(CB_EIO, "%s: cannot open config file", path);
    size_t cap = 4096, n = 0;
    char *text = cb_malloc(cap);
    for (size_t got; (got = fread(text + n, 1, cap - n - 1, f)) > 0;)
        if ((n += got) + 1 >= cap) text = cb_realloc(text, cap *= 2);
    text[n] = '\0';
    fclose(f);
    CbStatus st = cb_model_spec_parse(text, path, s);
    free(text);
    return st;
}

/* Parses argv into s; returns 0, or 2 for a usage error. */
static int parse_args(int argc, char **argv, CbTrainSpec *s, const char **out, int *force)
{
    int depth = 0;
    long width = 0, classes = -1;
    opterr = 0;
    for (int pass = 0; pass < 2; ++pass) { /* pass 0: --config only; pass 1: everything else */
        optind = 0; /* 0: full re-initialization of GNU getopt */
        for (int c; (c = getopt_long(argc, argv, "o:", OPTS, NULL)) != -1;) {
            if (c == '?' || c == ':') {
                fprintf(stderr, "cbound train: unknown option or missing value: '%s'\n\n%s", argv[optind - 1],
                        USAGE);
                return 2;
            }
            if ((pass == 0) != (c == O_CONFIG)) continue;
            long list[CB_MODEL_MAX_DEPTH + 1];
            switch (c) {
            case O_CONFIG:
                if (read_config(optarg, s) != CB_OK) {
                    cb_err_report("cbound train");
                    return 2;
                }
                break;
            case 'o': *out = optarg; break;
            case O_FORCE: *force = 1; break;
            case O_DATA: snprintf(s->data.kind, sizeof s->data.kind, "%s", optarg); break;
            case O_DATA_PATH: snprintf(s->data.path, sizeof s->data.path, "%s", optarg); break;
            case O_N_TRAIN: s->data.n_train = (size_t)cb_cli_long("--n-train", optarg, 0, 1L << 40); break;
            case O_N_TEST: s->data.n_test = (size_t)cb_cli_long("--n-test", optarg, 0, 1L << 40); break;
            case O_SCALE:
                if (cb_data_scale_parse(optarg, &s->data.scale) != CB_OK) {
                    cb_err_report("cbound train: --scale");
                    return 2;
                }
                break;
            case O_TARGET: snprintf(s->data.target, sizeof s->data.target, "%s", optarg); break;
            case O_REGRESSION: s->data.regression = 1; break;
            case O_DIM: s->data.dim = (size_t)cb_cli_long("--dim", optarg, 1, 1L << 30); break;
            case O_TEACHER: s->data.teacher_width = (size_t)cb_cli_long("--teacher-width", optarg, 1, 1L << 30); break;
            case O_NOISE: s->data.noise = cb_cli_double("--noise", optarg, 0, 1e300); break;
            case O_DATA_SEED: s->data.seed = (uint64_t)cb_cli_long("--data-seed", optarg, 0, INT64_MAX); break;
            case O_FEATURES: {
                CbFeaturesKind k;
                if (cb_features_parse(optarg, &k) != CB_OK) { /* names every kind */
                    cb_err_report("cbound train: --features");
                    return 2;
                }
                snprintf(s->data.features, sizeof s->data.features, "%s", optarg);
                break;
            }
            case O_CONV_FILTERS: s->data.conv_filters = (size_t)cb_cli_long("--conv-filters", optarg, 1, CB_FEATURES_MAX_FILTERS); break;
            case O_CONV_POOL: s->data.conv_pool = (size_t)cb_cli_long("--conv-pool", optarg, 1, CB_FEATURES_MAX_POOL); break;
            case O_CONV_GAIN: s->data.conv_gain = cb_cli_double("--conv-gain", optarg, 0, 1e30); break;
            case O_WIDTHS: {
                int n = parse_csv_list("--layers", optarg, list, CB_MODEL_MAX_DEPTH + 1, 0);
                if (n < 2) {
                    fprintf(stderr, "cbound train: error: --layers needs at least 2 widths (input,output), got '%s'\n",
                            optarg);
                    return 2;
                }
                s->depth = n - 1;
                for (int i = 0; i < n; ++i) s->widths[i] = (size_t)list[i];
                break;
            }
            case O_DEPTH: depth = (int)cb_cli_long("--depth", optarg, 1, CB_MODEL_MAX_DEPTH); break;
            case O_WIDTH: width = cb_cli_long("--width", optarg, 1, 1L << 30); break;
            case O_CLASSES: classes = cb_cli_long("--classes", optarg, 1, 1L << 30); break;
            case O_ACT:
                if (cb_mlp_act_parse(optarg, &s->act) != CB_OK) {
                    cb_err_report("cbound train: --act");
                    return 2;
                }
                break;
            case O_BETA: s->beta = cb_cli_double("--beta", optarg, 1e-12, 1e12); break;
            case O_BIAS: s->bias = 1; break;
            case O_NO_BIAS: s->bias = 0; break;
            case O_INIT: s->init = choose("--init", optarg, "kaiming", "gaussian") ? CB_INIT_GAUSSIAN
                                                                                   : CB_INIT_KAIMING_UNIFORM; break;
            case O_SIGMA: s->sigma = cb_cli_double("--sigma", optarg, 0, 1e6); break;
            case O_LOSS: s->train.loss = choose("--loss", optarg, "ce", "mse") ? CB_LOSS_MSE : CB_LOSS_CROSS_ENTROPY;
                break;
            case O_OPT: s->train.opt = choose("--opt", optarg, "sgd", "adam") ? CB_OPT_ADAM : CB_OPT_SGD; break;
            case O_LR: s->train.lr = cb_cli_double("--lr", optarg, 0, 1e6); break;
            case O_MOMENTUM: s->train.momentum = cb_cli_double("--momentum", optarg, 0, 1); break;
            case O_WD: s->train.weight_decay = cb_cli_double("--weight-decay", optarg, 0, 1e6); break;
            case O_EPOCHS: s->train.epochs = (int)cb_cli_long("--epochs", optarg, 1, 1000000); break;
            case O_BATCH: s->train.batch = (size_t)cb_cli_long("--batch", optarg, 1, 1L << 30); break;
            case O_DROPS: {
                int n = parse_csv_list("--drops", optarg, list, 8, 1);
                s->train.n_drops = n;
                for (int i = 0; i < n; ++i) s->train.drop_epochs[i] = (int)list[i];
                break;
            }
            case O_DROP_FACTOR: s->train.drop_factor = cb_cli_double("--drop-factor", optarg, 0, 1); break;
            case O_STOP_CE: s->train.stop_ce = cb_cli_double("--stop-ce", optarg, 0, 1e6); break;
            case O_SEED: s->train.seed = (uint64_t)cb_cli_long("--seed", optarg, 0, INT64_MAX); break;
            case O_QUIET: s->train.quiet = 1; break;
            }
        }
    }
    if (optind != argc) {
        fprintf(stderr, "cbound train: unexpected argument '%s'\n\n%s", argv[optind], USAGE);
        return 2;
    }
    if (depth || width) {
        if (!depth || !width) {
            fprintf(stderr, "cbound train: error: --depth and --width go together (or give --layers)\n");
            return 2;
        }
        s->depth = depth;
        s->widths[0] = 0;
        for (int l = 1; l < depth; ++l) s->widths[l] = (size_t)width;
        s->widths[depth] = 0;
    }
    if (classes > 0) {
        s->widths[s->depth] = (size_t)classes;
        if (!strcmp(s->data.kind, "gaussian")) s->data.n_classes = (size_t)classes;
    }
    if (!*out) {
        fprintf(stderr, "cbound train: error: no output file; give -o MODEL.h5\n\n%s", USAGE);
        return 2;
    }
    return 0;
}

static int train_and_save(CbTrainSpec *s, const char *out, int force)
{
    CbData train = {0}, test = {0};
    CbModel m = {0};
    CbStatus st = cb_data_content(&s->data); /* keys follow the files' contents, as in a sweep */
    if (st == CB_OK) st = cb_data_load(&s->data, &train, &test);
    if (st == CB_OK) st = cb_model_spec_resolve(s, &train);
    if (st == CB_OK) {
        char desc[512];
        cb_data_describe(&train, desc, sizeof desc);
        printf("data       %s\n", desc);
        cb_data_describe(&test, desc, sizeof desc);
        printf("           %s\n", desc);
        printf("stage key  %016" PRIx64 "  seed %" PRIu64 "\n", cb_model_spec_key(s), s->train.seed);
        fflush(stdout);
        st = cb_model_train(s, &train, &test, &m);
    }
    if (st == CB_OK && !force && access(out, F_OK) == 0) { /* appeared while we trained */
        st = CB_ERR(CB_EEXIST, "%s appeared while training; refusing to overwrite it", out);
        cb_err_hint("pass --force to replace it, or choose another -o");
    }
    if (st == CB_OK) st = cb_model_save(out, &m);
    if (st == CB_OK) {
        printf("saved      %s\n\n", out);
        cb_model_print(&m, out, stdout);
    }
    cb_model_free(&m);
    cb_data_free(&train);
    cb_data_free(&test);
    if (st != CB_OK) {
        cb_err_report("cbound train");
        return 1;
    }
    return 0;
}

int cb_cli_train(int argc, char **argv)
{
    if (cb_cli_wants_help(argc, argv)) {
        cb_cli_print0(USAGE);
        return 0;
    }
    CbTrainSpec s;
    cb_model_spec_default(&s);
    const char *out = NULL;
    int force = 0;
    int rc = parse_args(argc, argv, &s, &out, &force);
    if (rc) return rc;
    if (!force && access(out, F_OK) == 0) {
        CB_ERR(CB_EEXIST, "%s exists; refusing to overwrite it", out);
        cb_err_hint("pass --force to replace it, or choose another -o");
        cb_err_report("cbound train");
        return 1;
    }
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (rank == 0) {
        if (size > 1) printf("cbound train is serial: rank 0 trains, %d other rank(s) wait\n", size - 1);
        rc = train_and_save(&s, out, force);
    }
    MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return rc;
}
