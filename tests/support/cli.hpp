// Running the ifsim binary as a user does, for the tests of the command line: a real process,
// both streams captured, its exit code. IFSIM_BINARY names the binary, IFSIM_SOURCE_DIR the tree.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace ifsim::test {

namespace fs = std::filesystem;

// This process's scratch folders: ifsim_cli_<pid> and ifsim_cli_<pid>_<name>.
inline std::string scratch_prefix() { return "ifsim_cli_" + std::to_string(getpid()); }

// Removes them once every test passed, and keeps them to look at when one failed: a suite that
// left them behind filled /tmp with thousands of folders.
class scratch_cleanup : public ::testing::Environment {
    void TearDown() override {
        if (!::testing::UnitTest::GetInstance()->Passed()) return;
        const std::string prefix = scratch_prefix();
        std::vector<fs::path> mine;
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(fs::temp_directory_path(), ec)) {
            const std::string name = e.path().filename().string();
            if (name == prefix || name.starts_with(prefix + "_")) mine.push_back(e.path());
        }
        for (const auto& p : mine) fs::remove_all(p, ec);
    }
};
inline ::testing::Environment* const scratch_cleanup_registered = ::testing::AddGlobalTestEnvironment(new scratch_cleanup);

inline std::string slurp(const fs::path& p) {
    std::ifstream f(p);
    return std::string(std::istreambuf_iterator<char>(f), {});
}

struct result {
    int code = -1;
    std::string err;  // stderr
    std::string out;  // stdout
};

// Runs `binary` with `args` (already shell-quoted), capturing both streams; `shell` runs first in
// the same shell (limits, traps, variables).
inline result run_binary(const std::string& binary, const std::string& args, const std::string& shell = "") {
    const fs::path dir = fs::temp_directory_path() / scratch_prefix();
    fs::create_directories(dir);
    const std::string cmd = shell + binary + " " + args + " >" + (dir / "o").string() + " 2>" + (dir / "e").string();
    const int status = std::system(cmd.c_str());
    result r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(dir / "o");
    r.err = slurp(dir / "e");
    return r;
}

// The ifsim binary (IFSIM_BINARY) with `args`, as run_binary.
inline result ifsim(const std::string& args, const std::string& shell = "") {
    return run_binary(IFSIM_BINARY, args, shell);
}

// A path for a test's outputs, absent: this process's own, so that test binaries run side by side.
inline fs::path fresh_dir(const std::string& name) {
    const fs::path d = fs::temp_directory_path() / (scratch_prefix() + "_" + name);
    fs::remove_all(d);
    return d;
}

// A config of 9 kinds of synaptic input onto one population (exp_current of tau_syn 1 to 9 ms),
// one over the CUDA backend's 8: for the tests of how it is refused.
inline void write_nine_channels(const fs::path& file) {
    std::ofstream config(file);
    config << "[simulation]\nduration = \"2 ms\"\n[[population]]\nname = \"A\"\nsize = 2\nmodel = \"lif\"\n";
    for (int k = 1; k <= 9; ++k)
        config << "[[projection]]\nsource = \"A\"\ntarget = \"A\"\nrule = \"all_to_all\"\nsynapse = \"exp_current\"\n"
               << "weight = \"1 pA\"\ntau_syn = \"" << k << " ms\"\n";
}

// examples/<name>, by its full path.
inline std::string example(const std::string& name) { return std::string(IFSIM_SOURCE_DIR) + "/examples/" + name; }

// The value of `key` in summary.json's text as written (strings keep their quotes), "" if absent.
inline std::string json_field(const std::string& json, const std::string& key) {
    const auto k = json.find("\"" + key + "\"");
    if (k == std::string::npos) return "";
    auto v = json.find(':', k) + 1;
    while (json[v] == ' ') ++v;
    const auto end = json.find_first_of(",\n}", v);
    return json.substr(v, end - v);
}

// One CSV line's fields, quotes as RFC 4180 writes them.
inline std::vector<std::string> csv_fields(const std::string& line) {
    std::vector<std::string> out(1);
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (c == '"' && quoted && i + 1 < line.size() && line[i + 1] == '"') out.back() += '"', ++i;
        else if (c == '"') quoted = !quoted;
        else if (c == ',' && !quoted) out.emplace_back();
        else out.back() += c;
    }
    return out;
}

}  // namespace ifsim::test
