/*
 * Kafka-protocol broker for flowgate's tests: librdkafka's mock cluster behind a tiny
 * line protocol, so a Node test can start a broker on 127.0.0.1 without Java or Docker.
 *
 *   mock-cluster [--ports P1,P2,...] N_BROKERS [TOPIC:PARTITIONS ...]
 *
 * --ports puts broker i's listener on 127.0.0.1:Pi instead of an ephemeral port, so a broker
 * killed with SIGKILL can be started again as a NEW PROCESS on the same address: clients
 * reconnect to the bootstrap and broker addresses they already know, and the new process
 * advertises those same host:port pairs in its metadata. librdkafka 2.0.2 has no property or
 * mock API to choose the ports (rdkafka_mock.h: rd_kafka_mock_cluster_new(rk, N) binds
 * 127.0.0.1:0 for each broker, test.mock.num.brokers likewise), so this file defines bind()
 * itself: the executable's symbol interposes libc's for librdkafka's calls (the dynamic
 * linker searches the executable first; no LD_PRELOAD, no second file). It rewrites only the
 * mock's listener binds, i.e. AF_INET loopback with port 0, in the order the mock makes them
 * (broker 1, 2, ...), sets SO_REUSEADDR first (the killed broker's connections may sit in
 * TIME_WAIT on that port) and calls the real bind() from libc (dlsym RTLD_NEXT). Without
 * --ports nothing is rewritten.
 *
 * Prints one line "BOOTSTRAP host:port,host:port,..." once the listeners are up, then
 * reads commands from stdin, one a line, and answers each with "OK" or "ERR <why>":
 *
 *   down [ID]                  disconnect the broker ID (default: every broker) and refuse
 *                              new connections; the listening ports stay the same
 *   up [ID]                    accept connections again
 *   topic NAME PARTITIONS      create a topic (replication factor min(3, N_BROKERS))
 *   errors API_KEY COUNT ERR   the next COUNT requests of that API (0 = Produce) fail with
 *                              error code ERR, e.g. "errors 0 100000 19": every Produce gets
 *                              NOT_ENOUGH_REPLICAS and appends nothing, while fetches work
 *   quit                       destroy the cluster and exit 0
 *
 * EOF on stdin and SIGTERM/SIGINT exit 0 as well: stdin is a pipe from the test process,
 * so the broker cannot outlive a test runner that crashed without killing it. On Linux
 * PR_SET_PDEATHSIG covers a parent that dies while the pipe is somehow still open.
 *
 * Built by test/support/kafka-broker.ts:  cc -O1 -o mock-cluster mock-cluster.c -lrdkafka
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static volatile sig_atomic_t stop_requested = 0;

/* --ports: the listener port of each broker, in broker id order; next_port indexes it. */
#define MAX_PINNED 64
static int pinned_ports[MAX_PINNED];
static int pinned_count = 0;
static int next_port = 0;

typedef int (*bind_fn)(int, const struct sockaddr *, socklen_t);

/* Interposes libc's bind() (see the top comment). Called by librdkafka's mock thread only
 * while the cluster is created, i.e. before main() prints BOOTSTRAP: no locking needed. */
int bind(int fd, const struct sockaddr *addr, socklen_t len) {
        static bind_fn real_bind = NULL;
        struct sockaddr_in pinned;
        if (!real_bind) {
                real_bind = (bind_fn)dlsym(RTLD_NEXT, "bind");
                if (!real_bind) {
                        errno = ENOSYS;
                        return -1;
                }
        }
        if (next_port < pinned_count && addr && len >= (socklen_t)sizeof(struct sockaddr_in) &&
            addr->sa_family == AF_INET) {
                const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
                if (in->sin_port == 0 && in->sin_addr.s_addr == htonl(INADDR_LOOPBACK)) {
                        int one = 1;
                        int port = pinned_ports[next_port++];
                        memcpy(&pinned, in, sizeof(pinned));
                        pinned.sin_port = htons((unsigned short)port);
                        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
                        if (real_bind(fd, (const struct sockaddr *)&pinned, sizeof(pinned)) == 0)
                                return 0;
                        /* librdkafka 2.0.2 then aborts in its own cleanup (an assertion in
                         * rd_kafka_mock_cluster_destroy) without saying why: say it and exit. */
                        fprintf(stderr, "mock-cluster: cannot listen on 127.0.0.1:%d: %s (port already in use?)\n",
                                port, strerror(errno));
                        fflush(stderr);
                        _exit(3);
                }
        }
        return real_bind(fd, addr, len);
}

static void on_signal(int sig) {
        (void)sig;
        stop_requested = 1;
}

/* The mock's own chatter (connection resets during down/up, no bootstrap.servers for the
 * host handle) would interleave with the protocol on stdout/stderr: drop it. */
static void silent_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
        (void)rk;
        (void)level;
        (void)fac;
        (void)buf;
}

static int replication_for(int brokers) {
        return brokers < 3 ? brokers : 3;
}

static int parse_int(const char *s, int *out) {
        char *end = NULL;
        long v;
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || end == s || *end != '\0' || v < 0 || v > 100000)
                return -1;
        *out = (int)v;
        return 0;
}

/* "P1,P2,..." → pinned_ports; -1 on a malformed list. */
static int parse_ports(const char *list) {
        char buf[1024];
        char *save = NULL;
        char *tok;
        if (strlen(list) >= sizeof(buf))
                return -1;
        strcpy(buf, list);
        for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                int port;
                if (pinned_count >= MAX_PINNED || parse_int(tok, &port) || port < 1 || port > 65535)
                        return -1;
                pinned_ports[pinned_count++] = port;
        }
        return pinned_count > 0 ? 0 : -1;
}

static void reply(const char *fmt, const char *detail) {
        if (detail)
                printf(fmt, detail);
        else
                fputs(fmt, stdout);
        fflush(stdout);
}

static void set_state(rd_kafka_mock_cluster_t *mc, int brokers, const char *arg, int up) {
        int id = -1;
        rd_kafka_resp_err_t err;
        if (arg && (parse_int(arg, &id) || id < 1 || id > brokers)) {
                reply("ERR bad broker id %s\n", arg);
                return;
        }
        /* One call with -1 (all brokers) rather than a loop over ids: with librdkafka 2.0.2 the
         * loop over 3 brokers took ~1 s per command (the mock thread is slow to pick up the
         * later ops), the single -1 call ~1 ms. */
        err = up ? rd_kafka_mock_broker_set_up(mc, id) : rd_kafka_mock_broker_set_down(mc, id);
        if (err)
                reply("ERR %s\n", rd_kafka_err2str(err));
        else
                reply("OK\n", NULL);
}

static void create_topic(rd_kafka_mock_cluster_t *mc, int brokers, const char *name, const char *parts) {
        int n;
        rd_kafka_resp_err_t err;
        if (!name || !*name || !parts || parse_int(parts, &n) || n < 1) {
                reply("ERR usage: topic NAME PARTITIONS%s\n", "");
                return;
        }
        err = rd_kafka_mock_topic_create(mc, name, n, replication_for(brokers));
        if (err)
                reply("ERR %s\n", rd_kafka_err2str(err));
        else
                reply("OK\n", NULL);
}

static void push_errors(rd_kafka_mock_cluster_t *mc, const char *api, const char *count, const char *code) {
        int a, n, e, i;
        rd_kafka_resp_err_t *errs;
        if (!api || !count || !code || parse_int(api, &a) || a > 32767 || parse_int(count, &n) || n < 1 ||
            parse_int(code, &e)) {
                reply("ERR usage: errors API_KEY COUNT ERR%s\n", "");
                return;
        }
        errs = calloc((size_t)n, sizeof(*errs));
        if (!errs) {
                reply("ERR out of memory%s\n", "");
                return;
        }
        for (i = 0; i < n; i++)
                errs[i] = (rd_kafka_resp_err_t)e;
        /* Copied into the mock's own error stack under its lock: effective on return. */
        rd_kafka_mock_push_request_errors_array(mc, (int16_t)a, (size_t)n, errs);
        free(errs);
        reply("OK\n", NULL);
}

int main(int argc, char **argv) {
        char errstr[512];
        char line[1024];
        int brokers;
        int i;
        int first_arg = 1;
        rd_kafka_conf_t *conf;
        rd_kafka_t *rk;
        rd_kafka_mock_cluster_t *mc;
        struct sigaction sa;

#ifdef __linux__
        prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
        if (argc >= 3 && !strcmp(argv[1], "--ports")) {
                if (parse_ports(argv[2])) {
                        fprintf(stderr, "mock-cluster: bad --ports '%s' (want P1,P2,... in 1..65535)\n", argv[2]);
                        return 2;
                }
                first_arg = 3;
        }
        if (argc < first_arg + 1 || parse_int(argv[first_arg], &brokers) || brokers < 1) {
                fprintf(stderr, "usage: %s [--ports P1,P2,...] N_BROKERS [TOPIC:PARTITIONS ...]\n", argv[0]);
                return 2;
        }
        if (pinned_count && pinned_count != brokers) {
                fprintf(stderr, "mock-cluster: --ports names %d ports for %d brokers\n", pinned_count, brokers);
                return 2;
        }

        /* No SA_RESTART: a signal must interrupt the blocking fgets() below. */
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);

        conf = rd_kafka_conf_new();
        rd_kafka_conf_set_log_cb(conf, silent_log);
        if (rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
                fprintf(stderr, "mock-cluster: %s\n", errstr);
                return 1;
        }
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "mock-cluster: rd_kafka_new: %s\n", errstr);
                return 1;
        }
        mc = rd_kafka_mock_cluster_new(rk, brokers);
        if (!mc) {
                fprintf(stderr, "mock-cluster: rd_kafka_mock_cluster_new failed\n");
                rd_kafka_destroy(rk);
                return 1;
        }

        for (i = first_arg + 1; i < argc; i++) {
                const char *spec = argv[i];
                const char *colon = strrchr(spec, ':');
                char name[512];
                int parts;
                rd_kafka_resp_err_t err;
                if (!colon || colon == spec || (size_t)(colon - spec) >= sizeof(name) ||
                    parse_int(colon + 1, &parts) || parts < 1) {
                        fprintf(stderr, "mock-cluster: bad topic spec '%s' (want NAME:PARTITIONS)\n", spec);
                        rd_kafka_mock_cluster_destroy(mc);
                        rd_kafka_destroy(rk);
                        return 2;
                }
                /* A copy, not argv edited in place: ps should show the command line as given. */
                memcpy(name, spec, (size_t)(colon - spec));
                name[colon - spec] = '\0';
                err = rd_kafka_mock_topic_create(mc, name, parts, replication_for(brokers));
                if (err) {
                        fprintf(stderr, "mock-cluster: topic %s: %s\n", name, rd_kafka_err2str(err));
                        rd_kafka_mock_cluster_destroy(mc);
                        rd_kafka_destroy(rk);
                        return 1;
                }
        }

        printf("BOOTSTRAP %s\n", rd_kafka_mock_cluster_bootstraps(mc));
        fflush(stdout);

        while (!stop_requested && fgets(line, sizeof(line), stdin)) {
                char *save = NULL;
                char *cmd;
                char *a1;
                char *a2;
                char *a3;
                line[strcspn(line, "\r\n")] = '\0';
                cmd = strtok_r(line, " \t", &save);
                if (!cmd)
                        continue;
                a1 = strtok_r(NULL, " \t", &save);
                a2 = strtok_r(NULL, " \t", &save);
                a3 = strtok_r(NULL, " \t", &save);
                if (!strcmp(cmd, "down"))
                        set_state(mc, brokers, a1, 0);
                else if (!strcmp(cmd, "up"))
                        set_state(mc, brokers, a1, 1);
                else if (!strcmp(cmd, "topic"))
                        create_topic(mc, brokers, a1, a2);
                else if (!strcmp(cmd, "errors"))
                        push_errors(mc, a1, a2, a3);
                else if (!strcmp(cmd, "quit")) {
                        reply("OK\n", NULL);
                        break;
                } else
                        reply("ERR unknown command %s\n", cmd);
        }

        rd_kafka_mock_cluster_destroy(mc);
        rd_kafka_destroy(rk);
        return 0;
}
