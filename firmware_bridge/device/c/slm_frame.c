/* slm-mesh firmware bridge: COBS, CRC-32 and packets (see slm_frame.h). */
#include "slm_frame.h"

/* A COBS encoder fed one byte at a time, so a packet's parts need no scratch copy. */
typedef struct {
    uint8_t *out;
    size_t n;
    size_t code_at;
    uint8_t code;
    uint8_t full; /* the open block holds 254 bytes: a new one opens only if more come */
} cobs_writer;

static void cobs_start(cobs_writer *w, uint8_t *out) {
    w->out = out;
    w->n = 1;
    w->code_at = 0;
    w->code = 1;
    w->full = 0;
}

static void cobs_put(cobs_writer *w, uint8_t byte) {
    if (w->full) {
        w->out[w->code_at] = 0xFF;
        w->code_at = w->n++;
        w->code = 1;
        w->full = 0;
    }
    if (byte == 0) {
        w->out[w->code_at] = w->code;
        w->code_at = w->n++;
        w->code = 1;
    } else {
        w->out[w->n++] = byte;
        if (++w->code == 0xFF) {
            w->full = 1;
        }
    }
}

static size_t cobs_finish(cobs_writer *w) {
    w->out[w->code_at] = w->full ? 0xFF : w->code;
    return w->n;
}

size_t slm_cobs_encode(const uint8_t *data, size_t length, uint8_t *out) {
    cobs_writer w;
    size_t i;
    cobs_start(&w, out);
    for (i = 0; i < length; i++) {
        cobs_put(&w, data[i]);
    }
    return cobs_finish(&w);
}

int32_t slm_cobs_decode(const uint8_t *packet, size_t length, uint8_t *out) {
    size_t i = 0;
    size_t o = 0;
    while (i < length) {
        uint8_t code = packet[i];
        size_t end = i + code;
        if (code == 0 || end > length) {
            return SLM_FRAME_ERR_COBS;
        }
        for (i++; i < end; i++) {
            if (packet[i] == 0) {
                return SLM_FRAME_ERR_COBS;
            }
            out[o++] = packet[i];
        }
        if (code < 0xFF && i < length) {
            out[o++] = 0;
        }
    }
    return (int32_t)o;
}

uint32_t slm_crc32_update(uint32_t crc, const uint8_t *data, size_t length) {
    uint8_t bit;
    crc = ~crc;
    while (length--) {
        crc ^= *data++;
        for (bit = 0; bit < 8; bit++) {
            crc = (crc & 1u) ? (crc >> 1) ^ 0xEDB88320UL : crc >> 1;
        }
    }
    return ~crc;
}

uint32_t slm_crc32(const uint8_t *data, size_t length) {
    return slm_crc32_update(0, data, length);
}

size_t slm_packet_encode(const uint8_t *frame, size_t length, const uint8_t *tag, uint8_t *out,
                         size_t out_size) {
    uint8_t flags = tag != NULL ? SLM_FRAME_FLAG_TAGGED : 0u;
    size_t tag_bytes = tag != NULL ? SLM_FRAME_TAG_BYTES : 0u;
    size_t packet = 1u + length + tag_bytes + SLM_FRAME_CRC_BYTES;
    uint32_t crc;
    cobs_writer w;
    size_t i;
    size_t n;
    if (packet > SLM_FRAME_MAX_PACKET || SLM_COBS_MAX_ENCODED(packet) + 1u > out_size) {
        return 0;
    }
    crc = slm_crc32_update(0, &flags, 1);
    crc = slm_crc32_update(crc, frame, length);
    if (tag != NULL) {
        crc = slm_crc32_update(crc, tag, tag_bytes);
    }
    cobs_start(&w, out);
    cobs_put(&w, flags);
    for (i = 0; i < length; i++) {
        cobs_put(&w, frame[i]);
    }
    for (i = 0; i < tag_bytes; i++) {
        cobs_put(&w, tag[i]);
    }
    for (i = 0; i < SLM_FRAME_CRC_BYTES; i++) {
        cobs_put(&w, (uint8_t)(crc >> (8u * i)));
    }
    n = cobs_finish(&w);
    out[n++] = 0;
    return n;
}

int32_t slm_packet_decode(uint8_t *packet, size_t length, const uint8_t **frame, uint8_t *flags) {
    int32_t decoded = slm_cobs_decode(packet, length, packet);
    size_t body;
    size_t tag_bytes;
    uint32_t given;
    if (decoded < 0) {
        return decoded;
    }
    if ((size_t)decoded < 1u + SLM_FRAME_CRC_BYTES) {
        return SLM_FRAME_ERR_SHORT;
    }
    body = (size_t)decoded - SLM_FRAME_CRC_BYTES;
    given = (uint32_t)packet[body] | ((uint32_t)packet[body + 1] << 8) |
            ((uint32_t)packet[body + 2] << 16) | ((uint32_t)packet[body + 3] << 24);
    if (slm_crc32(packet, body) != given) {
        return SLM_FRAME_ERR_CRC;
    }
    if (packet[0] & (uint8_t)~SLM_FRAME_FLAG_TAGGED) {
        return SLM_FRAME_ERR_FLAGS;
    }
    tag_bytes = (packet[0] & SLM_FRAME_FLAG_TAGGED) ? SLM_FRAME_TAG_BYTES : 0u;
    if (body < 1u + tag_bytes) {
        return SLM_FRAME_ERR_SHORT;
    }
    *flags = packet[0];
    *frame = packet + 1;
    return (int32_t)(body - 1u - tag_bytes);
}

void slm_deframer_init(slm_deframer *deframer, uint8_t *buffer, size_t size) {
    deframer->buffer = buffer;
    deframer->size = size;
    deframer->length = 0;
    deframer->overflow = 0;
}

size_t slm_deframer_push(slm_deframer *deframer, uint8_t byte) {
    size_t length;
    if (byte != 0) {
        if (deframer->length < deframer->size) {
            deframer->buffer[deframer->length++] = byte;
        } else {
            deframer->overflow = 1;
        }
        return 0;
    }
    length = deframer->overflow ? 0u : deframer->length;
    deframer->length = 0;
    deframer->overflow = 0;
    return length;
}
