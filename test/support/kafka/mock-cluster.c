/*
 * Kafka-protocol broker for flowgate's tests: librdkafka's mock cluster behind a tiny
 * line protocol, so a Node test can start a broker on 127.0.0.1 without Java or Docker.
 *
 *   mock-cluster N_BROKERS [TOPIC:PARTITIONS ...]
 *
 * Prints one line "BOOTSTRAP host:port,host:port,..." once the listeners are up, then
 * reads commands from stdin, one a line, and answers each with "OK" or "ERR <why>":
 *
 *   down [ID]                  disconnect the broker ID (default: every broker) and refuse
 *                              new connections; the listening ports stay the same
 *   up [ID]                    accept connections again
 *   topic NAME PARTITIONS      create a topic (replication factor min(3, N_BROKERS))
 *   quit                       destroy the cluster and exit 0
 *
 * EOF on stdin and SIGTERM/SIGINT exit 0 as well: stdin is a pipe from the test process,
 * so the broker cannot outlive a test runner that crashed without killing it. On Linux
 * PR_SET_PDEATHSIG covers a parent that dies while the pipe is somehow still open.
 *
 * Built by test/support/kafka-broker.ts:  cc -O1 -o mock-cluster mock-cluster.c -lrdkafka
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static volatile sig_atomic_t stop_requested = 0;

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

int main(int argc, char **argv) {
        char errstr[512];
        char line[1024];
        int brokers;
        int i;
        rd_kafka_conf_t *conf;
        rd_kafka_t *rk;
        rd_kafka_mock_cluster_t *mc;
        struct sigaction sa;

#ifdef __linux__
        prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
        if (argc < 2 || parse_int(argv[1], &brokers) || brokers < 1) {
                fprintf(stderr, "usage: %s N_BROKERS [TOPIC:PARTITIONS ...]\n", argv[0]);
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

        for (i = 2; i < argc; i++) {
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
                line[strcspn(line, "\r\n")] = '\0';
                cmd = strtok_r(line, " \t", &save);
                if (!cmd)
                        continue;
                a1 = strtok_r(NULL, " \t", &save);
                a2 = strtok_r(NULL, " \t", &save);
                if (!strcmp(cmd, "down"))
                        set_state(mc, brokers, a1, 0);
                else if (!strcmp(cmd, "up"))
                        set_state(mc, brokers, a1, 1);
                else if (!strcmp(cmd, "topic"))
                        create_topic(mc, brokers, a1, a2);
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
