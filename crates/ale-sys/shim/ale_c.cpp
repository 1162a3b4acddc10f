// The C interface of ale_c.h over ALE 0.12.1's `ale::ALEInterface`.
// Every entry point that may throw catches everything and reports it through
// `ale_last_error`; ALE's own `std::exit` paths in `loadROM` are checked for
// before calling it.

#include "ale_c.h"

#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "ale/ale_interface.hpp"
#include "ale/emucore/Console.hxx"
#include "ale/emucore/MD5.hxx"
#include "ale/emucore/Props.hxx"
#include "ale/games/Roms.hpp"

struct ale_t {
  ale::ALEInterface interface;
};

namespace {

thread_local std::string last_error;

int fail(const std::string& message) {
  last_error = message;
  return -1;
}

// Runs `body`, turning any exception into -1 and a message.
template <typename F>
int guarded(const char* what, F&& body) {
  try {
    body();
    return 0;
  } catch (const std::exception& e) {
    return fail(std::string(what) + ": " + e.what());
  } catch (const char* message) {
    return fail(std::string(what) + ": " + message);
  } catch (...) {
    return fail(std::string(what) + ": unknown C++ exception");
  }
}

// The checks `ALEInterface::loadROM` would otherwise answer with std::exit.
int check_rom(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return fail("ROM file " + path.string() + " does not exist or is not a file");
  }
  std::ifstream file(path, std::ios::binary);
  if (!file.good()) {
    return fail("ROM file " + path.string() + " cannot be opened for reading");
  }
  std::vector<uint8_t> rom((std::istreambuf_iterator<char>(file)),
                           std::istreambuf_iterator<char>());
  if (rom.empty()) {
    return fail("ROM file " + path.string() + " is empty");
  }
  const std::string md5 = ale::stella::MD5(rom.data(), rom.size());
  std::unique_ptr<ale::RomSettings> settings(ale::buildRomRLWrapper(path, md5));
  if (!settings) {
    return fail("ROM file " + path.string() + " (md5 " + md5 +
                ") is not a ROM that ALE 0.12.1 supports: neither its md5 nor "
                "its file name matches a supported game");
  }
  return 0;
}

int copy_actions(const ale::ActionVect& actions, int* out, size_t cap, size_t* len) {
  *len = actions.size();
  if (actions.size() > cap) {
    return fail("action set of " + std::to_string(actions.size()) +
                " actions does not fit a buffer of " + std::to_string(cap));
  }
  for (size_t i = 0; i < actions.size(); ++i) {
    out[i] = static_cast<int>(actions[i]);
  }
  return 0;
}

// Reads ALE's Serializer encoding (a little-endian 32-bit int) at `pos`.
bool read_int(const uint8_t* data, size_t len, size_t& pos, int32_t& value) {
  if (len < 4 || pos > len - 4) {
    return false;
  }
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    v |= static_cast<uint32_t>(data[pos + i]) << (8 * i);
  }
  value = static_cast<int32_t>(v);
  pos += 4;
  return true;
}

// Reads a Serializer string (length, then bytes) at `pos`.
bool read_string(const uint8_t* data, size_t len, size_t& pos, std::string& value) {
  int32_t size = 0;
  if (!read_int(data, len, pos, size) || size < 0 || static_cast<size_t>(size) > len - pos) {
    return false;
  }
  value.assign(reinterpret_cast<const char*>(data + pos), static_cast<size_t>(size));
  pos += static_cast<size_t>(size);
  return true;
}

// Checks that `data` is a serialised ALEState of the cartridge `md5` before
// ALE reads it: ALE itself ignores a mismatch and reads garbage.
int check_state(const uint8_t* data, size_t len, const std::string& md5) {
  // ALEState::serialize: six ints, the console state string, two ints.
  size_t pos = 0;
  int32_t skipped = 0;
  for (int i = 0; i < 6; ++i) {
    if (!read_int(data, len, pos, skipped)) {
      return fail("state of " + std::to_string(len) + " bytes is truncated");
    }
  }
  std::string console;
  if (!read_string(data, len, pos, console) || !read_int(data, len, pos, skipped) ||
      !read_int(data, len, pos, skipped) || pos != len) {
    return fail("state of " + std::to_string(len) + " bytes is not a serialised ALE state");
  }
  // The console state starts with the cartridge's md5.
  size_t inner = 0;
  std::string state_md5;
  if (!read_string(reinterpret_cast<const uint8_t*>(console.data()), console.size(), inner,
                   state_md5)) {
    return fail("state holds no cartridge md5");
  }
  if (state_md5 != md5) {
    return fail("state is of the cartridge with md5 " + state_md5 +
                ", but this emulator runs the cartridge with md5 " + md5);
  }
  return 0;
}

}  // namespace

extern "C" {

const char* ale_last_error(void) noexcept { return last_error.c_str(); }

void ale_set_logger_mode(int mode) noexcept {
  ale::Logger::setMode(static_cast<ale::Logger::mode>(mode));
}

ale_t* ale_new(void) noexcept {
  ale_t* ale = nullptr;
  guarded("creating the ALE interface", [&] { ale = new ale_t(); });
  return ale;
}

void ale_delete(ale_t* ale) noexcept {
  try {
    delete ale;
  } catch (...) {
    // A destructor that throws is already a bug in ALE; never unwind into Rust.
  }
}

int ale_set_int(ale_t* ale, const char* key, int value) noexcept {
  return guarded("setting an integer", [&] { ale->interface.setInt(key, value); });
}

int ale_set_float(ale_t* ale, const char* key, float value) noexcept {
  return guarded("setting a float", [&] { ale->interface.setFloat(key, value); });
}

int ale_set_bool(ale_t* ale, const char* key, int value) noexcept {
  return guarded("setting a bool", [&] { ale->interface.setBool(key, value != 0); });
}

int ale_set_string(ale_t* ale, const char* key, const char* value) noexcept {
  return guarded("setting a string", [&] { ale->interface.setString(key, value); });
}

int ale_load_rom(ale_t* ale, const char* path) noexcept {
  int status = 0;
  int guard = guarded("loading a ROM", [&] {
    const std::filesystem::path rom(path);
    status = check_rom(rom);
    if (status == 0) {
      ale->interface.loadROM(rom);
    }
  });
  return guard != 0 ? guard : status;
}

int ale_act(ale_t* ale, int action, float paddle_strength, int* reward) noexcept {
  return guarded("emulating a frame", [&] {
    *reward = ale->interface.act(static_cast<ale::Action>(action), paddle_strength);
  });
}

int ale_game_over(const ale_t* ale, int with_truncation) noexcept {
  return ale->interface.game_over(with_truncation != 0) ? 1 : 0;
}

int ale_game_truncated(const ale_t* ale) noexcept {
  return ale->interface.game_truncated() ? 1 : 0;
}

int ale_lives(ale_t* ale) noexcept { return ale->interface.lives(); }

int ale_frame_number(const ale_t* ale) noexcept { return ale->interface.getFrameNumber(); }

int ale_episode_frame_number(const ale_t* ale) noexcept {
  return ale->interface.getEpisodeFrameNumber();
}

int ale_reset_game(ale_t* ale) noexcept {
  return guarded("resetting the game", [&] { ale->interface.reset_game(); });
}

int ale_minimal_action_set(const ale_t* ale, int* out, size_t cap, size_t* len) noexcept {
  int status = 0;
  int guard = guarded("reading the minimal action set", [&] {
    status = copy_actions(ale->interface.getMinimalActionSet(), out, cap, len);
  });
  return guard != 0 ? guard : status;
}

int ale_legal_action_set(const ale_t* ale, int* out, size_t cap, size_t* len) noexcept {
  int status = 0;
  int guard = guarded("reading the legal action set", [&] {
    status = copy_actions(ale->interface.getLegalActionSet(), out, cap, len);
  });
  return guard != 0 ? guard : status;
}

size_t ale_screen_width(const ale_t* ale) noexcept { return ale->interface.getScreen().width(); }

size_t ale_screen_height(const ale_t* ale) noexcept { return ale->interface.getScreen().height(); }

int ale_screen_grayscale(const ale_t* ale, uint8_t* out, size_t len) noexcept {
  const ale::ALEScreen& screen = ale->interface.getScreen();
  const size_t pixels = screen.width() * screen.height();
  if (len != pixels) {
    return fail("grayscale buffer of " + std::to_string(len) + " bytes, expected " +
                std::to_string(pixels));
  }
  ale->interface.theOSystem->colourPalette().applyPaletteGrayscale(out, screen.getArray(),
                                                                    pixels);
  return 0;
}

int ale_screen_rgb(const ale_t* ale, uint8_t* out, size_t len) noexcept {
  const ale::ALEScreen& screen = ale->interface.getScreen();
  const size_t pixels = screen.width() * screen.height();
  if (len != 3 * pixels) {
    return fail("RGB buffer of " + std::to_string(len) + " bytes, expected " +
                std::to_string(3 * pixels));
  }
  ale->interface.theOSystem->colourPalette().applyPaletteRGB(out, screen.getArray(), pixels);
  return 0;
}

void ale_ram(const ale_t* ale, uint8_t out[128]) noexcept {
  const ale::ALERAM& ram = ale->interface.getRAM();
  std::memcpy(out, ram.array(), ram.size() < 128 ? ram.size() : 128);
}

int ale_clone_state(ale_t* ale, int include_rng, uint8_t** data, size_t* len) noexcept {
  *data = nullptr;
  *len = 0;
  return guarded("cloning the emulator state", [&] {
    const std::string bytes = ale->interface.cloneState(include_rng != 0).serialize();
    uint8_t* buffer = static_cast<uint8_t*>(std::malloc(bytes.size() > 0 ? bytes.size() : 1));
    if (buffer == nullptr) {
      throw std::bad_alloc();
    }
    std::memcpy(buffer, bytes.data(), bytes.size());
    *data = buffer;
    *len = bytes.size();
  });
}

int ale_restore_state(ale_t* ale, const uint8_t* data, size_t len) noexcept {
  int status = 0;
  int guard = guarded("restoring the emulator state", [&] {
    const std::string md5 = ale->interface.theOSystem->console().properties().get(ale::stella::Cartridge_MD5);
    status = check_state(data, len, md5);
    if (status == 0) {
      const ale::ALEState state(std::string(reinterpret_cast<const char*>(data), len));
      ale->interface.restoreState(state);
    }
  });
  return guard != 0 ? guard : status;
}

void ale_free_buffer(uint8_t* data) noexcept { std::free(data); }

}  // extern "C"
