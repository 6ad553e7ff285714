/*
 * Host tests of slm_frame.c (run by tests/test_bridge_c.py):
 *   test_slm_frame          the unit tests; prints "ok" and exits 0
 *   test_slm_frame pipe     reads "<op> <hex>" lines, writes one answer line each, for the
 *                           Python tests to compare with the bridge's own code:
 *                           cobs, uncobs, crc, packet, tagged (16-byte tag, then frame),
 *                           unpacket -> hex, or "error <code>"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slm_frame.h"

static int failures = 0;

#define CHECK(condition)                                                   \
    do {                                                                   \
        if (!(condition)) {                                                \
            fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #condition); \
            failures++;                                                    \
        }                                                                  \
    } while (0)

static void check_cobs(const uint8_t *data, size_t length, const uint8_t *expected,
                       size_t expected_length) {
    uint8_t encoded[600];
    uint8_t decoded[600];
    size_t n = slm_cobs_encode(data, length, encoded);
    int32_t m;
    CHECK(n == expected_length);
    CHECK(memcmp(encoded, expected, expected_length) == 0);
    m = slm_cobs_decode(encoded, n, decoded);
    CHECK(m == (int32_t)length);
    CHECK(length == 0 || memcmp(decoded, data, length) == 0);
}

static void test_cobs_vectors(void) {
    /* The examples of Cheshire and Baker's paper, as Wikipedia lists them. */
    uint8_t data[300];
    uint8_t expected[300];
    size_t i;
    check_cobs((const uint8_t *)"", 0, (const uint8_t *)"\x01", 1);
    check_cobs((const uint8_t *)"\x00", 1, (const uint8_t *)"\x01\x01", 2);
    check_cobs((const uint8_t *)"\x00\x00", 2, (const uint8_t *)"\x01\x01\x01", 3);
    check_cobs((const uint8_t *)"\x00\x11\x00", 3, (const uint8_t *)"\x01\x02\x11\x01", 4);
    check_cobs((const uint8_t *)"\x11\x22\x00\x33", 4, (const uint8_t *)"\x03\x11\x22\x02\x33",
               5);
    check_cobs((const uint8_t *)"\x11\x22\x33\x44", 4,
               (const uint8_t *)"\x05\x11\x22\x33\x44", 5);
    check_cobs((const uint8_t *)"\x11\x00\x00\x00", 4,
               (const uint8_t *)"\x02\x11\x01\x01\x01", 5);
    /* 01..FE: one full block, and nothing after it. */
    for (i = 0; i < 254; i++) {
        data[i] = (uint8_t)(i + 1);
        expected[i + 1] = (uint8_t)(i + 1);
    }
    expected[0] = 0xFF;
    check_cobs(data, 254, expected, 255);
    /* 01..FF: a full block, then a block of one. */
    data[254] = 0xFF;
    expected[255] = 0x02;
    expected[256] = 0xFF;
    check_cobs(data, 255, expected, 257);
}

static void test_cobs_refuses_bad_packets(void) {
    uint8_t out[16];
    CHECK(slm_cobs_decode((const uint8_t *)"\x05\x11\x22", 3, out) == SLM_FRAME_ERR_COBS);
    CHECK(slm_cobs_decode((const uint8_t *)"\x03\x11\x00", 3, out) == SLM_FRAME_ERR_COBS);
    CHECK(slm_cobs_decode((const uint8_t *)"\x00", 1, out) == SLM_FRAME_ERR_COBS);
}

static void test_crc(void) {
    CHECK(slm_crc32((const uint8_t *)"123456789", 9) == 0xCBF43926UL);
    CHECK(slm_crc32((const uint8_t *)"", 0) == 0);
    CHECK(slm_crc32_update(slm_crc32((const uint8_t *)"1234", 4), (const uint8_t *)"56789", 5) ==
          0xCBF43926UL);
}

static void test_packet_round_trip(void) {
    const uint8_t frame[] = {0x08, 0x01, 0x12, 0x02, 'a', 'b', 0x18, 0x00, 0x62, 0x00};
    uint8_t tag[SLM_FRAME_TAG_BYTES];
    uint8_t wire[SLM_FRAME_MAX_WIRE];
    uint8_t flags = 0xAA;
    const uint8_t *found = NULL;
    size_t n;
    size_t i;
    int32_t length;
    n = slm_packet_encode(frame, sizeof frame, NULL, wire, sizeof wire);
    CHECK(n > 0 && wire[n - 1] == 0);
    for (i = 0; i + 1 < n; i++) {
        CHECK(wire[i] != 0);
    }
    length = slm_packet_decode(wire, n - 1, &found, &flags);
    CHECK(length == (int32_t)sizeof frame);
    CHECK(flags == 0 && found != NULL && memcmp(found, frame, sizeof frame) == 0);

    memset(tag, 0x5A, sizeof tag);
    n = slm_packet_encode(frame, sizeof frame, tag, wire, sizeof wire);
    length = slm_packet_decode(wire, n - 1, &found, &flags);
    CHECK(length == (int32_t)sizeof frame && flags == SLM_FRAME_FLAG_TAGGED);
    CHECK(found != NULL && memcmp(found + length, tag, sizeof tag) == 0);

    n = slm_packet_encode(frame, sizeof frame, NULL, wire, sizeof wire);
    wire[3] ^= 0x40;
    if (wire[3] == 0) {
        wire[3] = 0x01;
    }
    CHECK(slm_packet_decode(wire, n - 1, &found, &flags) < 0);
    CHECK(slm_packet_encode(frame, sizeof frame, NULL, wire, 8) == 0);
    CHECK(slm_packet_encode(frame, SLM_FRAME_MAX_PACKET, NULL, wire, sizeof wire) == 0);
}

static void test_deframer(void) {
    const uint8_t frame[] = {0x08, 0x01, 0x12, 0x01, 'x'};
    uint8_t wire[64];
    uint8_t buffer[64];
    uint8_t small[4];
    slm_deframer deframer;
    size_t n = slm_packet_encode(frame, sizeof frame, NULL, wire, sizeof wire);
    size_t i;
    size_t got = 0;
    slm_deframer_init(&deframer, buffer, sizeof buffer);
    CHECK(slm_deframer_push(&deframer, 0) == 0); /* an empty packet is nothing */
    for (i = 0; i < n; i++) {
        got = slm_deframer_push(&deframer, wire[i]);
    }
    CHECK(got == n - 1 && memcmp(buffer, wire, n - 1) == 0);
    slm_deframer_init(&deframer, small, sizeof small);
    for (i = 0; i < n; i++) {
        got = slm_deframer_push(&deframer, wire[i]);
    }
    CHECK(got == 0); /* too long for the buffer: dropped whole */
}

static size_t from_hex(const char *text, uint8_t *out, size_t size) {
    size_t n = 0;
    unsigned int byte;
    while (text[0] && text[1] && n < size && sscanf(text, "%2x", &byte) == 1) {
        out[n++] = (uint8_t)byte;
        text += 2;
    }
    return n;
}

static void print_hex(const uint8_t *data, size_t length) {
    size_t i;
    for (i = 0; i < length; i++) {
        printf("%02x", data[i]);
    }
    printf("\n");
}

static int pipe_mode(void) {
    static char line[8192];
    static uint8_t in[4096];
    static uint8_t out[4096];
    while (fgets(line, sizeof line, stdin) != NULL) {
        char op[16] = {0};
        char *hex = strchr(line, ' ');
        size_t n;
        if (sscanf(line, "%15s", op) != 1) {
            continue;
        }
        n = hex != NULL ? from_hex(hex + 1, in, sizeof in) : 0;
        if (strcmp(op, "cobs") == 0) {
            print_hex(out, slm_cobs_encode(in, n, out));
        } else if (strcmp(op, "uncobs") == 0) {
            int32_t m = slm_cobs_decode(in, n, out);
            if (m < 0) {
                printf("error %d\n", (int)m);
            } else {
                print_hex(out, (size_t)m);
            }
        } else if (strcmp(op, "crc") == 0) {
            printf("%08lx\n", (unsigned long)slm_crc32(in, n));
        } else if (strcmp(op, "packet") == 0) {
            print_hex(out, slm_packet_encode(in, n, NULL, out, sizeof out));
        } else if (strcmp(op, "tagged") == 0 && n >= SLM_FRAME_TAG_BYTES) {
            print_hex(out, slm_packet_encode(in + SLM_FRAME_TAG_BYTES, n - SLM_FRAME_TAG_BYTES, in,
                                             out, sizeof out));
        } else if (strcmp(op, "unpacket") == 0) {
            const uint8_t *frame = NULL;
            uint8_t flags = 0;
            int32_t m = slm_packet_decode(in, n, &frame, &flags);
            if (m < 0) {
                printf("error %d\n", (int)m);
            } else {
                print_hex(frame, (size_t)m);
            }
        } else {
            printf("error unknown\n");
        }
        fflush(stdout);
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "pipe") == 0) {
        return pipe_mode();
    }
    test_cobs_vectors();
    test_cobs_refuses_bad_packets();
    test_crc();
    test_packet_round_trip();
    test_deframer();
    if (failures) {
        fprintf(stderr, "%d failed\n", failures);
        return 1;
    }
    printf("ok\n");
    return 0;
}
