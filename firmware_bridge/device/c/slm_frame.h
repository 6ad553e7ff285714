/*
 * slm-mesh firmware bridge: the packet layer for C firmware (Arduino, ESP-IDF, Pico SDK).
 *
 *   packet := COBS( flags | Frame | [tag] | crc32 ) 0x00
 *
 * flags: 1 byte, bit 0 = a 16-byte tag follows the Frame (HMAC-SHA256 over flags|Frame
 * with the device's key, truncated; compute it with your platform's SHA-256, e.g. mbedTLS
 * on the ESP32). Other bits are reserved and must be 0. crc32: CRC-32 as zlib computes
 * it, over flags|Frame|tag, little-endian. Frame: slm_mesh.v1.Frame, bridge.proto, which
 * nanopb turns into C structs and an encoder.
 *
 * C99, no allocation, no library beyond <stddef.h> and <stdint.h>.
 */
#ifndef SLM_FRAME_H
#define SLM_FRAME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SLM_FRAME_VERSION 1u
#define SLM_FRAME_FLAG_TAGGED 0x01u
#define SLM_FRAME_TAG_BYTES 16u
#define SLM_FRAME_CRC_BYTES 4u
/* flags, Frame, tag and CRC together, before COBS. */
#define SLM_FRAME_MAX_PACKET 1024u
/* The most bytes COBS writes for n bytes of data. */
#define SLM_COBS_MAX_ENCODED(n) ((n) + (n) / 254u + 1u)
/* Room for a whole packet on the wire, its 0x00 included. */
#define SLM_FRAME_MAX_WIRE (SLM_COBS_MAX_ENCODED(SLM_FRAME_MAX_PACKET) + 1u)

/* What slm_packet_decode and slm_cobs_decode return for a packet they refuse. */
#define SLM_FRAME_ERR_COBS (-1)
#define SLM_FRAME_ERR_CRC (-2)
#define SLM_FRAME_ERR_FLAGS (-3)
#define SLM_FRAME_ERR_SHORT (-4)

/* COBS-encode `length` bytes into `out` (room for SLM_COBS_MAX_ENCODED(length)); the
 * 0x00 delimiter is not written. Returns the bytes written. */
size_t slm_cobs_encode(const uint8_t *data, size_t length, uint8_t *out);

/* Decode one COBS packet (without its 0x00) into `out` (room for `length` bytes; `out`
 * may be `packet`, decoding in place). Returns the decoded length, or SLM_FRAME_ERR_COBS. */
int32_t slm_cobs_decode(const uint8_t *packet, size_t length, uint8_t *out);

/* CRC-32 (zlib's): slm_crc32_update(0, ...) starts; pass the result on to continue. */
uint32_t slm_crc32_update(uint32_t crc, const uint8_t *data, size_t length);
uint32_t slm_crc32(const uint8_t *data, size_t length);

/* The packet for an encoded Frame, 0x00 included, into `out` (`out_size` bytes; at most
 * SLM_FRAME_MAX_WIRE are needed). `tag`: 16 bytes, HMAC-SHA256(key, flags|Frame)
 * truncated, with flags = SLM_FRAME_FLAG_TAGGED; NULL for an untagged packet. Returns the
 * bytes written, or 0 when the Frame is too big or `out` too small. */
size_t slm_packet_encode(const uint8_t *frame, size_t length, const uint8_t *tag, uint8_t *out,
                         size_t out_size);

/* Check one packet (without its 0x00), decoding it in place. On success returns the
 * Frame's length and sets *frame to it (a tag, if *flags says so, follows it); else a
 * negative SLM_FRAME_ERR_*. */
int32_t slm_packet_decode(uint8_t *packet, size_t length, const uint8_t **frame, uint8_t *flags);

/* Packets out of a byte stream (a UART): feed each byte; a complete packet waits in
 * `buffer` when slm_deframer_push returns its length (> 0), until the next push. A packet
 * longer than the buffer is dropped whole. */
typedef struct {
    uint8_t *buffer;
    size_t size;
    size_t length;
    uint8_t overflow;
} slm_deframer;

void slm_deframer_init(slm_deframer *deframer, uint8_t *buffer, size_t size);
size_t slm_deframer_push(slm_deframer *deframer, uint8_t byte);

#ifdef __cplusplus
}
#endif

#endif /* SLM_FRAME_H */
