// The C interface of ale_c.h over ALE 0.12.1's `ale::ALEInterface`.
// Every entry point that may throw catches everything and reports it through
// `ale_last_error`; ALE's own `std::exit` paths in `loadROM` are checked for
// before calling it.

#include "ale_c.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "ale/ale_interface.hpp"
#include "ale/emucore/CartDPC.hxx"
#include "ale/emucore/Console.hxx"
#include "ale/emucore/MD5.hxx"
#include "ale/emucore/Props.hxx"
#include "ale/emucore/TIA.hxx"
#include "ale/games/Roms.hpp"
#include "ale/games/supported/MiniatureGolf.hpp"

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

// --- The exact state -------------------------------------------------------
//
// ALE's serialised state (`cloneState(true)`) leaves out emulator state that
// influences the future:
// - StellaEnvironment's last action and paddle strength of each player, which
//   sticky actions repeat (the next frame repeats them with probability
//   `repeat_action_probability`);
// - the TIA's two frame buffers (a frame that does not draw every pixel keeps
//   those of the frame before the last), its write position in the current
//   frame and its partial-frame flags;
// - the TIA's object mask pointers into its static tables, which only the
//   writes of some registers recompute;
// - what ALE 0.12.1 serialises lossily: the DPC cartridge's (Pitfall II)
//   fractional music clock, which it rounds to 1e-8, and Miniature Golf's
//   level, par, hits and status counters, which it saves as booleans.
// They are private; explicit template instantiation is the one place where
// C++ does not check access to the names it is given ([temp.explicit]), so
// `Expose` hands out pointers to exactly these members, nothing else.

template <typename Tag, typename Tag::type Member>
struct Expose {
  friend typename Tag::type get(Tag) noexcept { return Member; }
};

#define HRL_EXPOSE(TAG, TYPE, MEMBER) \
  struct TAG {                        \
    using type = TYPE;                \
    friend type get(TAG) noexcept;    \
  };                                  \
  template struct Expose<TAG, &MEMBER>

using ale::StellaEnvironment;
using ale::stella::TIA;

HRL_EXPOSE(PlayerAAction, ale::Action StellaEnvironment::*, StellaEnvironment::m_player_a_action);
HRL_EXPOSE(PlayerBAction, ale::Action StellaEnvironment::*, StellaEnvironment::m_player_b_action);
HRL_EXPOSE(PaddleAStrength, float StellaEnvironment::*, StellaEnvironment::m_paddle_a_strength);
HRL_EXPOSE(PaddleBStrength, float StellaEnvironment::*, StellaEnvironment::m_paddle_b_strength);
HRL_EXPOSE(FramePointer, uint8_t* TIA::*, TIA::myFramePointer);
HRL_EXPOSE(PartialFrame, bool TIA::*, TIA::myPartialFrameFlag);
HRL_EXPOSE(FrameGreyed, bool TIA::*, TIA::myFrameGreyed);
HRL_EXPOSE(BallMask, const uint8_t* TIA::*, TIA::myCurrentBLMask);
HRL_EXPOSE(Missile0Mask, const uint8_t* TIA::*, TIA::myCurrentM0Mask);
HRL_EXPOSE(Missile1Mask, const uint8_t* TIA::*, TIA::myCurrentM1Mask);
HRL_EXPOSE(Player0Mask, const uint8_t* TIA::*, TIA::myCurrentP0Mask);
HRL_EXPOSE(Player1Mask, const uint8_t* TIA::*, TIA::myCurrentP1Mask);
HRL_EXPOSE(PlayfieldMask, const uint32_t* TIA::*, TIA::myCurrentPFMask);
HRL_EXPOSE(BallMaskTable, uint8_t (*)[4][4][320], TIA::ourBallMaskTable);
HRL_EXPOSE(MissileMaskTable, uint8_t (*)[4][8][4][320], TIA::ourMissleMaskTable);
HRL_EXPOSE(PlayerMaskTable, uint8_t (*)[4][2][8][320], TIA::ourPlayerMaskTable);
HRL_EXPOSE(DisabledMaskTable, const uint8_t (*)[640], TIA::ourDisabledMaskTable);
HRL_EXPOSE(PlayfieldTable, uint32_t (*)[2][160], TIA::ourPlayfieldTable);
HRL_EXPOSE(SystemDevices, ale::stella::Device* (ale::stella::System::*)[100],
           ale::stella::System::myDevices);
HRL_EXPOSE(SystemDeviceCount, uint32_t ale::stella::System::*,
           ale::stella::System::myNumberOfDevices);
HRL_EXPOSE(DpcFractionalClocks, double ale::stella::CartridgeDPC::*,
           ale::stella::CartridgeDPC::myFractionalClocks);
HRL_EXPOSE(GolfLevelNumber, int ale::MiniatureGolfSettings::*,
           ale::MiniatureGolfSettings::m_levelNumber);
HRL_EXPOSE(GolfLevelPar, int ale::MiniatureGolfSettings::*, ale::MiniatureGolfSettings::m_levelPar);
HRL_EXPOSE(GolfHits, int ale::MiniatureGolfSettings::*, ale::MiniatureGolfSettings::m_hits);
HRL_EXPOSE(GolfLeftStatus, int ale::MiniatureGolfSettings::*,
           ale::MiniatureGolfSettings::m_leftStatus);
HRL_EXPOSE(GolfHitsAtStart, int ale::MiniatureGolfSettings::*,
           ale::MiniatureGolfSettings::m_hitsAtStartOfLevel);

#undef HRL_EXPOSE

// "HALE" and the layout version of the exact state.
constexpr uint32_t kExactMagic = 0x454c4148;
constexpr uint32_t kExactVersion = 1;
// Bytes of each TIA frame buffer as TIA.cxx allocates them.
constexpr size_t kFrameBufferBytes = 160 * 300;

// A byte table the TIA's byte masks point into.
struct MaskTable {
  const uint8_t* base;
  size_t size;
};

std::array<MaskTable, 4> byte_mask_tables() {
  return {{
      {&(*get(BallMaskTable()))[0][0][0], sizeof(*get(BallMaskTable()))},
      {&(*get(MissileMaskTable()))[0][0][0][0], sizeof(*get(MissileMaskTable()))},
      {&(*get(PlayerMaskTable()))[0][0][0][0], sizeof(*get(PlayerMaskTable()))},
      {&(*get(DisabledMaskTable()))[0], sizeof(*get(DisabledMaskTable()))},
  }};
}

const uint32_t* playfield_table() { return &(*get(PlayfieldTable()))[0][0]; }
constexpr size_t kPlayfieldTableLen = 2 * 160;

// Little-endian encoding of the exact state's fields.
struct Writer {
  std::string bytes;

  void u8(uint8_t v) { bytes.push_back(static_cast<char>(v)); }
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) {
      u8(static_cast<uint8_t>(v >> (8 * i)));
    }
  }
  void f32(float v) {
    uint32_t bits = 0;
    std::memcpy(&bits, &v, sizeof bits);
    u32(bits);
  }
  void raw(const uint8_t* data, size_t len) {
    bytes.append(reinterpret_cast<const char*>(data), len);
  }
  void blob(const std::string& data) {
    if (data.size() > UINT32_MAX) {
      throw std::length_error("ALE state of more than 4 GiB");
    }
    u32(static_cast<uint32_t>(data.size()));
    bytes += data;
  }
};

// Reads the fields back; every read is bounds-checked and throws on a short
// input, with `what` naming the field.
struct Reader {
  const uint8_t* data;
  size_t len;
  size_t pos = 0;

  const uint8_t* take(size_t n, const char* what) {
    if (n > len - pos) {
      throw std::runtime_error(std::string("exact state is truncated at ") + what);
    }
    const uint8_t* at = data + pos;
    pos += n;
    return at;
  }
  uint8_t u8(const char* what) { return *take(1, what); }
  uint32_t u32(const char* what) {
    const uint8_t* at = take(4, what);
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      v |= static_cast<uint32_t>(at[i]) << (8 * i);
    }
    return v;
  }
  float f32(const char* what) {
    const uint32_t bits = u32(what);
    float v = 0;
    std::memcpy(&v, &bits, sizeof v);
    return v;
  }
  bool flag(const char* what) {
    const uint8_t v = u8(what);
    if (v > 1) {
      throw std::runtime_error(std::string("exact state: ") + what + " is " +
                               std::to_string(v) + ", not 0 or 1");
    }
    return v == 1;
  }
};

TIA& tia_of(const ale_t* ale) {
  return dynamic_cast<TIA&>(ale->interface.theOSystem->console().mediaSource());
}

// The DPC cartridge among the system's devices, or null for other cartridges.
ale::stella::CartridgeDPC* dpc_of(const ale_t* ale) {
  ale::stella::System& system = ale->interface.theOSystem->console().system();
  const uint32_t count = system.*get(SystemDeviceCount());
  for (uint32_t d = 0; d < count && d < 100; ++d) {
    if (auto* dpc = dynamic_cast<ale::stella::CartridgeDPC*>((system.*get(SystemDevices()))[d])) {
      return dpc;
    }
  }
  return nullptr;
}

// Miniature Golf's settings, or null for other games.
ale::MiniatureGolfSettings* golf_of(const ale_t* ale) {
  return dynamic_cast<ale::MiniatureGolfSettings*>(ale->interface.romSettings.get());
}

using GolfCounter = int ale::MiniatureGolfSettings::*;

std::array<GolfCounter, 5> golf_counters() {
  return {get(GolfLevelNumber()), get(GolfLevelPar()), get(GolfHits()), get(GolfLeftStatus()),
          get(GolfHitsAtStart())};
}

void put_byte_mask(Writer& out, const uint8_t* mask, const char* what) {
  const auto tables = byte_mask_tables();
  const auto at = reinterpret_cast<std::uintptr_t>(mask);
  for (size_t t = 0; t < tables.size(); ++t) {
    const auto base = reinterpret_cast<std::uintptr_t>(tables[t].base);
    if (base <= at && at < base + tables[t].size) {
      out.u8(static_cast<uint8_t>(t));
      out.u32(static_cast<uint32_t>(at - base));
      return;
    }
  }
  throw std::runtime_error(std::string("the TIA's ") + what +
                           " points outside its mask tables");
}

const uint8_t* take_byte_mask(Reader& in, const char* what) {
  const auto tables = byte_mask_tables();
  const uint8_t table = in.u8(what);
  const uint32_t offset = in.u32(what);
  if (table >= tables.size() || offset >= tables[table].size) {
    throw std::runtime_error(std::string("exact state: ") + what + " (table " +
                             std::to_string(table) + ", offset " + std::to_string(offset) +
                             ") is outside the TIA's mask tables");
  }
  return tables[table].base + offset;
}

// The parts of the exact state after ALE's own, read and checked.
struct Extra {
  ale::Action player_a_action;
  ale::Action player_b_action;
  float paddle_a_strength;
  float paddle_b_strength;
  bool partial_frame;
  bool frame_greyed;
  uint32_t frame_offset;
  std::array<const uint8_t*, 5> byte_masks;
  const uint32_t* playfield_mask;
  const uint8_t* current_frame;
  const uint8_t* previous_frame;
  bool has_dpc_clocks;
  double dpc_fractional_clocks;
  bool has_golf_counters;
  std::array<int, 5> golf_counters;
};

constexpr std::array<const char*, 5> kByteMaskNames = {
    "ball mask", "missile 0 mask", "missile 1 mask", "player 0 mask", "player 1 mask"};

std::array<const uint8_t* TIA::*, 5> byte_mask_members() {
  return {get(BallMask()), get(Missile0Mask()), get(Missile1Mask()), get(Player0Mask()),
          get(Player1Mask())};
}

std::string save_exact(const ale_t* ale) {
  if (ale->interface.getBool("color_averaging")) {
    throw std::runtime_error(
        "the exact state does not cover colour averaging (its blend of past frames); "
        "turn color_averaging off");
  }
  // cloneState only reads the emulator; ALE does not mark it const.
  ale::ALEInterface& interface = const_cast<ale::ALEInterface&>(ale->interface);
  const StellaEnvironment& env = *interface.environment;
  const TIA& tia = tia_of(ale);

  Writer out;
  out.u32(kExactMagic);
  out.u32(kExactVersion);
  out.blob(interface.cloneState(true).serialize());
  out.u32(static_cast<uint32_t>(env.*get(PlayerAAction())));
  out.u32(static_cast<uint32_t>(env.*get(PlayerBAction())));
  out.f32(env.*get(PaddleAStrength()));
  out.f32(env.*get(PaddleBStrength()));

  out.u8(tia.*get(PartialFrame()) ? 1 : 0);
  out.u8(tia.*get(FrameGreyed()) ? 1 : 0);
  const auto frame = reinterpret_cast<std::uintptr_t>(tia.currentFrameBuffer());
  const auto pointer = reinterpret_cast<std::uintptr_t>(tia.*get(FramePointer()));
  if (pointer < frame || pointer - frame > kFrameBufferBytes) {
    throw std::runtime_error("the TIA's frame pointer is outside its frame buffer");
  }
  out.u32(static_cast<uint32_t>(pointer - frame));
  const auto members = byte_mask_members();
  for (size_t m = 0; m < members.size(); ++m) {
    put_byte_mask(out, tia.*members[m], kByteMaskNames[m]);
  }
  const auto pf = reinterpret_cast<std::uintptr_t>(tia.*get(PlayfieldMask()));
  const auto pf_base = reinterpret_cast<std::uintptr_t>(playfield_table());
  if (pf < pf_base || pf >= pf_base + sizeof(uint32_t) * kPlayfieldTableLen ||
      (pf - pf_base) % sizeof(uint32_t) != 0) {
    throw std::runtime_error("the TIA's playfield mask points outside its table");
  }
  out.u32(static_cast<uint32_t>((pf - pf_base) / sizeof(uint32_t)));

  const size_t frame_len = static_cast<size_t>(tia.width()) * tia.height();
  if (frame_len > kFrameBufferBytes) {
    throw std::runtime_error("the TIA's frame is larger than its frame buffer");
  }
  out.u32(static_cast<uint32_t>(frame_len));
  out.raw(tia.currentFrameBuffer(), frame_len);
  out.raw(tia.previousFrameBuffer(), frame_len);

  const ale::stella::CartridgeDPC* dpc = dpc_of(ale);
  out.u8(dpc != nullptr ? 1 : 0);
  if (dpc != nullptr) {
    uint64_t bits = 0;
    const double clocks = dpc->*get(DpcFractionalClocks());
    std::memcpy(&bits, &clocks, sizeof bits);
    out.u32(static_cast<uint32_t>(bits));
    out.u32(static_cast<uint32_t>(bits >> 32));
  }
  const ale::MiniatureGolfSettings* golf = golf_of(ale);
  out.u8(golf != nullptr ? 1 : 0);
  if (golf != nullptr) {
    for (const GolfCounter counter : golf_counters()) {
      out.u32(static_cast<uint32_t>(golf->*counter));
    }
  }
  return out.bytes;
}

// Reads the exact state after ALE's part and checks every field against this
// emulator, so that nothing is touched before the whole state is known good.
Extra read_extra(Reader& in, const ale_t* ale, const TIA& tia) {
  Extra extra{};
  const uint32_t a = in.u32("player A's action");
  const uint32_t b = in.u32("player B's action");
  if (a > ale::PLAYER_A_DOWNLEFTFIRE || b < ale::PLAYER_B_NOOP || b > ale::PLAYER_B_DOWNLEFTFIRE) {
    throw std::runtime_error("exact state: last actions " + std::to_string(a) + " and " +
                             std::to_string(b) + " are not player A and player B actions");
  }
  extra.player_a_action = static_cast<ale::Action>(a);
  extra.player_b_action = static_cast<ale::Action>(b);
  extra.paddle_a_strength = in.f32("player A's paddle strength");
  extra.paddle_b_strength = in.f32("player B's paddle strength");
  extra.partial_frame = in.flag("the partial-frame flag");
  extra.frame_greyed = in.flag("the greyed-frame flag");
  extra.frame_offset = in.u32("the frame pointer");
  if (extra.frame_offset > kFrameBufferBytes) {
    throw std::runtime_error("exact state: frame pointer offset " +
                             std::to_string(extra.frame_offset) + " is past the frame buffer");
  }
  for (size_t m = 0; m < extra.byte_masks.size(); ++m) {
    extra.byte_masks[m] = take_byte_mask(in, kByteMaskNames[m]);
  }
  const uint32_t pf = in.u32("the playfield mask");
  if (pf >= kPlayfieldTableLen) {
    throw std::runtime_error("exact state: playfield mask offset " + std::to_string(pf) +
                             " is outside the TIA's playfield table");
  }
  extra.playfield_mask = playfield_table() + pf;
  const uint32_t frame_len = in.u32("the frame size");
  const size_t expected = static_cast<size_t>(tia.width()) * tia.height();
  if (frame_len != expected) {
    throw std::runtime_error("exact state holds frames of " + std::to_string(frame_len) +
                             " pixels, this emulator's have " + std::to_string(expected));
  }
  extra.current_frame = in.take(frame_len, "the current frame");
  extra.previous_frame = in.take(frame_len, "the previous frame");
  extra.has_dpc_clocks = in.flag("the DPC clock flag");
  if (extra.has_dpc_clocks != (dpc_of(ale) != nullptr)) {
    throw std::runtime_error("exact state is of another cartridge type (DPC or not)");
  }
  if (extra.has_dpc_clocks) {
    const uint64_t low = in.u32("the DPC clock");
    const uint64_t bits = low | (static_cast<uint64_t>(in.u32("the DPC clock")) << 32);
    std::memcpy(&extra.dpc_fractional_clocks, &bits, sizeof bits);
  }
  extra.has_golf_counters = in.flag("the Miniature Golf flag");
  if (extra.has_golf_counters != (golf_of(ale) != nullptr)) {
    throw std::runtime_error("exact state is of another game (Miniature Golf or not)");
  }
  if (extra.has_golf_counters) {
    for (int& counter : extra.golf_counters) {
      counter = static_cast<int32_t>(in.u32("Miniature Golf's counters"));
    }
  }
  if (in.pos != in.len) {
    throw std::runtime_error("exact state has " + std::to_string(in.len - in.pos) +
                             " bytes past its end");
  }
  return extra;
}

void restore_exact(ale_t* ale, const uint8_t* data, size_t len) {
  Reader in{data, len};
  if (in.u32("the magic") != kExactMagic) {
    throw std::runtime_error("not an exact ALE state (it does not start with \"HALE\")");
  }
  const uint32_t version = in.u32("the version");
  if (version != kExactVersion) {
    throw std::runtime_error("exact ALE state of layout version " + std::to_string(version) +
                             "; this build reads version " + std::to_string(kExactVersion));
  }
  const uint32_t ale_len = in.u32("ALE's state");
  const uint8_t* ale_bytes = in.take(ale_len, "ALE's state");
  const std::string md5 =
      ale->interface.theOSystem->console().properties().get(ale::stella::Cartridge_MD5);
  if (check_state(ale_bytes, ale_len, md5) != 0) {
    throw std::runtime_error(last_error);
  }
  TIA& tia = tia_of(ale);
  const Extra extra = read_extra(in, ale, tia);

  const std::string saved(reinterpret_cast<const char*>(ale_bytes), ale_len);
  ale->interface.restoreState(ale::ALEState(saved));
  if (extra.has_dpc_clocks) {
    dpc_of(ale)->*get(DpcFractionalClocks()) = extra.dpc_fractional_clocks;
  }
  if (extra.has_golf_counters) {
    ale::MiniatureGolfSettings* golf = golf_of(ale);
    const auto counters = golf_counters();
    for (size_t c = 0; c < counters.size(); ++c) {
      golf->*counters[c] = extra.golf_counters[c];
    }
  }
  // ALE ignores the failures of the devices it restores: with the lossy parts
  // put right, the state it now holds must serialise back to exactly what it
  // was given.
  if (ale->interface.cloneState(true).serialize() != saved) {
    throw std::runtime_error(
        "ALE did not take the whole state (a device rejected its part); the emulator is "
        "left partly restored");
  }

  StellaEnvironment& env = *ale->interface.environment;
  env.*get(PlayerAAction()) = extra.player_a_action;
  env.*get(PlayerBAction()) = extra.player_b_action;
  env.*get(PaddleAStrength()) = extra.paddle_a_strength;
  env.*get(PaddleBStrength()) = extra.paddle_b_strength;

  const size_t frame_len = static_cast<size_t>(tia.width()) * tia.height();
  std::memcpy(tia.currentFrameBuffer(), extra.current_frame, frame_len);
  std::memcpy(tia.previousFrameBuffer(), extra.previous_frame, frame_len);
  tia.*get(FramePointer()) = tia.currentFrameBuffer() + extra.frame_offset;
  tia.*get(PartialFrame()) = extra.partial_frame;
  tia.*get(FrameGreyed()) = extra.frame_greyed;
  const auto members = byte_mask_members();
  for (size_t m = 0; m < members.size(); ++m) {
    tia.*members[m] = extra.byte_masks[m];
  }
  tia.*get(PlayfieldMask()) = extra.playfield_mask;
  // The environment's copy of the screen, as its processScreen makes it
  // without colour averaging (which saving refuses).
  const ale::ALEScreen& screen = ale->interface.getScreen();
  std::memcpy(screen.getArray(), tia.currentFrameBuffer(),
              std::min(screen.arraySize(), frame_len));
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

int ale_save_exact_state(const ale_t* ale, uint8_t* out, size_t cap, size_t* len) noexcept {
  *len = 0;
  bool fits = false;
  int guard = guarded("saving the exact emulator state", [&] {
    const std::string bytes = save_exact(ale);
    *len = bytes.size();
    fits = bytes.size() <= cap;
    if (fits) {
      std::memcpy(out, bytes.data(), bytes.size());
    }
  });
  if (guard != 0) {
    return guard;
  }
  return fits ? 0 : 1;
}

int ale_restore_exact_state(ale_t* ale, const uint8_t* data, size_t len) noexcept {
  return guarded("restoring the exact emulator state", [&] { restore_exact(ale, data, len); });
}

}  // extern "C"
