/*
 * A small C interface to ALE 0.12.1's C++ `ale::ALEInterface`, written for
 * hadamard-rl's `ale-sys` crate.
 *
 * Conventions:
 * - Functions returning `int` return 0 on success and -1 on failure; the
 *   failure's message is then available from `ale_last_error()` on the same
 *   thread until the next failing call there. No C++ exception ever leaves
 *   this interface.
 * - Functions marked "never fails" only read state that ALE keeps once a
 *   ROM is loaded; they are `noexcept`.
 * - Every function except `ale_new`, `ale_delete`, the setters and
 *   `ale_load_rom` needs a loaded ROM; the Rust wrapper guarantees it.
 * - One `ale_t` must not be used from two threads at once; distinct ones may.
 */
#ifndef HRL_ALE_C_H
#define HRL_ALE_C_H

#include <stddef.h>
#include <stdint.h>

/* In C++ every entry point is noexcept: an exception that escaped one would
 * end the process (std::terminate) instead of unwinding into the caller. */
#ifdef __cplusplus
#define ALE_C_NOEXCEPT noexcept
extern "C" {
#else
#define ALE_C_NOEXCEPT
#endif

typedef struct ale_t ale_t;

/* The message of this thread's last failure (never NULL). */
const char* ale_last_error(void) ALE_C_NOEXCEPT;

/* Verbosity of ALE's own messages on stderr: 0 info, 1 warning, 2 error.
 * Process-wide. Never fails. */
void ale_set_logger_mode(int mode) ALE_C_NOEXCEPT;

/* A new emulator with default settings and no ROM, or NULL on failure. */
ale_t* ale_new(void) ALE_C_NOEXCEPT;
void ale_delete(ale_t* ale) ALE_C_NOEXCEPT;

int ale_set_int(ale_t* ale, const char* key, int value) ALE_C_NOEXCEPT;
int ale_set_float(ale_t* ale, const char* key, float value) ALE_C_NOEXCEPT;
int ale_set_bool(ale_t* ale, const char* key, int value) ALE_C_NOEXCEPT;
int ale_set_string(ale_t* ale, const char* key, const char* value) ALE_C_NOEXCEPT;

/* Loads a ROM file (UTF-8 path). Fails, instead of exiting the process as
 * ALE itself would, when the file is missing or is not a ROM ALE supports. */
int ale_load_rom(ale_t* ale, const char* path) ALE_C_NOEXCEPT;

/* Emulates one frame with `action` (0..=17, player A) and writes the frame's
 * reward. */
int ale_act(ale_t* ale, int action, float paddle_strength, int* reward) ALE_C_NOEXCEPT;
/* Never fails. */
int ale_game_over(const ale_t* ale, int with_truncation) ALE_C_NOEXCEPT;
int ale_game_truncated(const ale_t* ale) ALE_C_NOEXCEPT;
int ale_lives(ale_t* ale) ALE_C_NOEXCEPT;
int ale_frame_number(const ale_t* ale) ALE_C_NOEXCEPT;
int ale_episode_frame_number(const ale_t* ale) ALE_C_NOEXCEPT;
int ale_reset_game(ale_t* ale) ALE_C_NOEXCEPT;

/* Writes up to `cap` actions into `out` and their number into `len`. */
int ale_minimal_action_set(const ale_t* ale, int* out, size_t cap, size_t* len) ALE_C_NOEXCEPT;
int ale_legal_action_set(const ale_t* ale, int* out, size_t cap, size_t* len) ALE_C_NOEXCEPT;

/* Screen size in pixels. Never fail. */
size_t ale_screen_width(const ale_t* ale) ALE_C_NOEXCEPT;
size_t ale_screen_height(const ale_t* ale) ALE_C_NOEXCEPT;
/* Copies the screen, row-major, into `out`: width*height bytes of
 * grayscale, or width*height*3 bytes of RGB. Fails if `len` differs. */
int ale_screen_grayscale(const ale_t* ale, uint8_t* out, size_t len) ALE_C_NOEXCEPT;
int ale_screen_rgb(const ale_t* ale, uint8_t* out, size_t len) ALE_C_NOEXCEPT;
/* Copies the 128 bytes of console RAM. Never fails. */
void ale_ram(const ale_t* ale, uint8_t out[128]) ALE_C_NOEXCEPT;

/* Serialises the emulator state into a buffer from `malloc` that the caller
 * frees with `ale_free_buffer`. */
int ale_clone_state(ale_t* ale, int include_rng, uint8_t** data, size_t* len) ALE_C_NOEXCEPT;
/* Restores a state produced by `ale_clone_state`. */
int ale_restore_state(ale_t* ale, const uint8_t* data, size_t len) ALE_C_NOEXCEPT;
void ale_free_buffer(uint8_t* data) ALE_C_NOEXCEPT;

/* The exact state: everything that determines the emulator's future frames,
 * screens, rewards and random draws, for resuming bit for bit. It is ALE's
 * own serialised state with its generator (`cloneState(true)`), followed by
 * what that leaves out: the last action and paddle strength of each player
 * (repeated by sticky actions), the TIA's two frame buffers, its position in
 * the frame and its object mask pointers, and the values ALE 0.12.1 saves
 * lossily (the DPC cartridge's fractional clock, Miniature Golf's counters).
 * Fails with colour averaging on.
 *
 * Always writes the state's size into `len`; copies the state into `out` only
 * if `cap` is at least that size, and otherwise returns 1 (no error message)
 * so the caller can retry with a larger buffer. `ale_save_exact_state` only
 * reads the emulator. */
int ale_save_exact_state(const ale_t* ale, uint8_t* out, size_t cap, size_t* len) ALE_C_NOEXCEPT;
/* Restores an exact state written by `ale_save_exact_state` for the same
 * cartridge. Everything is checked before the emulator is touched; if ALE then
 * fails to take its own part whole, the emulator is left partly restored and
 * the call fails. */
int ale_restore_exact_state(ale_t* ale, const uint8_t* data, size_t len) ALE_C_NOEXCEPT;

#ifdef __cplusplus
}
#endif

#endif /* HRL_ALE_C_H */
