// Every file in tests/configs/bad/ is a malformed config that must be rejected with a config_error
// whose message contains what the file's second line promises: "# expect: <key>; <value>".
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "ifsim/config.hpp"
#include "ifsim/errors.hpp"

namespace ifsim {
namespace {

namespace fs = std::filesystem;

const fs::path bad_dir = fs::path(IFSIM_TEST_CONFIG_DIR) / "bad";

std::vector<std::string> bad_files() {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(bad_dir, ec))
        if (e.path().extension() == ".toml") out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

std::string trim(std::string s) {
    const auto a = s.find_first_not_of(" \t");
    const auto b = s.find_last_not_of(" \t\r");
    return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
}

class BadConfig : public ::testing::TestWithParam<std::string> {};

TEST_P(BadConfig, IsRejectedWithTheExpectedMessage) {
    const fs::path file = bad_dir / GetParam();
    std::ifstream in(file);
    std::string what, expect;
    std::getline(in, what);
    std::getline(in, expect);
    ASSERT_TRUE(what.starts_with("# ") && what.size() > 10) << "line 1 must say what is wrong: " << what;
    ASSERT_TRUE(expect.starts_with("# expect: ")) << "line 2 must be '# expect: <key>; <value>': " << expect;
    const std::string rest = expect.substr(10);
    const auto semi = rest.find(';');
    ASSERT_NE(semi, std::string::npos) << expect;
    const std::string key = trim(rest.substr(0, semi));
    const std::string value = trim(rest.substr(semi + 1));
    ASSERT_FALSE(key.empty());
    ASSERT_FALSE(value.empty());

    try {
        load_config(file);
        FAIL() << file << " was accepted (" << what << ")";
    } catch (const config_error& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find(key), std::string::npos) << "message lacks '" << key << "': " << message;
        EXPECT_NE(message.find(value), std::string::npos) << "message lacks '" << value << "': " << message;
        EXPECT_NE(message.find(GetParam()), std::string::npos) << "message lacks the file name: " << message;
    }
}

INSTANTIATE_TEST_SUITE_P(Files, BadConfig, ::testing::ValuesIn(bad_files()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                             std::string name = fs::path(info.param).stem().string();
                             for (char& c : name)
                                 if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                             return name;
                         });

// The list of malformed configs must not silently shrink (or vanish with a wrong path).
TEST(BadConfigList, HasAtLeastEighteenFiles) { EXPECT_GE(bad_files().size(), 18u) << bad_dir; }

// Every [[projection]] check of docs/config.md has its file (projection_*.toml).
TEST(BadConfigList, HasTheProjectionFiles) {
    const auto files = bad_files();
    const auto n = std::count_if(files.begin(), files.end(),
                                 [](const std::string& f) { return f.starts_with("projection_"); });
    EXPECT_GE(n, 16) << bad_dir;
}

}  // namespace
}  // namespace ifsim
