// write_synapse_file (synapse_export.hpp): a projection's CSR streamed in slices of rows, as CSV
// lines or HDF5 dataset extensions, so that memory stays small for any projection.
#include "ifsim/synapse_export.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "../recording/hdf5_util.hpp"
#include "ifsim/errors.hpp"
#include "ifsim/recording.hpp"
#include "ifsim/synapses.hpp"
#include "ifsim/fixed_point.hpp"

namespace ifsim {
namespace {

namespace fs = std::filesystem;

// One slice of synapses, column by column.
struct slice {
    std::vector<std::uint32_t> source, target;
    std::vector<double> weight, delay_ms;
    void clear() { source.clear(), target.clear(), weight.clear(), delay_ms.clear(); }
};

bool is_csv(const fs::path& file) { return file.extension() == ".csv"; }

class csv_writer {
public:
    // `unit`: the weight's, in its column's name, as the reader takes it (the HDF5 file's attribute).
    csv_writer(const fs::path& part, const char* unit) : part_(part), f_(std::fopen(part.c_str(), "w")) {
        if (!f_) fail();
        if (std::fprintf(f_.get(), "source,target,weight [%s],delay [ms]\n", unit) < 0) fail();
    }
    void write(const slice& s) {
        for (std::size_t i = 0; i < s.source.size(); ++i)
            if (std::fprintf(f_.get(), "%u,%u,%.17g,%.17g\n", s.source[i], s.target[i], s.weight[i], s.delay_ms[i]) < 0)
                fail();
    }
    void close() {
        if (std::fclose(f_.release()) != 0) fail();
    }

private:
    [[noreturn]] void fail() const {
        throw runtime_failure(part_.string() + ": cannot write (" + std::strerror(errno) + ")");
    }
    struct closer {
        void operator()(std::FILE* f) const { std::fclose(f); }
    };
    fs::path part_;
    std::unique_ptr<std::FILE, closer> f_;
};

class h5_writer {
public:
    h5_writer(const fs::path& file, const char* weight_unit) : file_(file) {
        constexpr hsize_t chunk = 65536;
        for (int c = 0; c < 4; ++c)
            sets_[c] = h5::create_extendible(file_.id(), names[c], c < 2 ? H5T_STD_U32LE : H5T_IEEE_F64LE, chunk, 0, 0,
                                             file_.path());
        h5::set_string_attribute(sets_[2].get(), "units", weight_unit, file_.path());
        h5::set_string_attribute(sets_[3].get(), "units", "ms", file_.path());
    }
    void write(const slice& s) {
        const hsize_t n = s.source.size();
        const void* data[4] = {s.source.data(), s.target.data(), s.weight.data(), s.delay_ms.data()};
        for (int c = 0; c < 4; ++c)
            h5::write_rows(sets_[c].get(), c < 2 ? H5T_NATIVE_UINT32 : H5T_NATIVE_DOUBLE, data[c], rows_, n, 0,
                           file_.path());
        rows_ += n;
    }
    void finish() {
        for (auto& d : sets_) d = {};
        file_.finish();
    }
    void discard() noexcept { file_.discard(); }

private:
    static constexpr const char* names[4] = {"source", "target", "weight", "delay"};
    h5::part_file file_;
    h5::handle sets_[4];
    hsize_t rows_ = 0;
};

}  // namespace

std::uint64_t write_synapse_file(const fs::path& file, const network& net, std::size_t k, double dt_ms,
                                 const std::atomic<bool>* stop) {
    const built_projection& b = net.projections.at(k);
    const fixed_point_format& format = net.channels.at(b.target).at(b.channel).format;
    constexpr std::uint64_t slice_synapses = std::uint64_t{1} << 20;
    std::unique_ptr<csv_writer> csv;
    std::unique_ptr<h5_writer> h5;
    check_output_target(file);
    const fs::path part = part_path(file);
    std::unique_lock<std::mutex> guard;
    if (!is_csv(file)) guard = h5::lock();  // every HDF5 call serialised (hdf5_util.hpp)
    try {
        if (is_csv(file)) csv = std::make_unique<csv_writer>(part, weight_unit_of(net.channels.at(b.target).at(b.channel).kind));
        else h5 = std::make_unique<h5_writer>(file, weight_unit_of(net.channels.at(b.target).at(b.channel).kind));
        slice s;
        const auto flush = [&] {
            if (csv) csv->write(s);
            else h5->write(s);
            s.clear();
        };
        for (std::uint64_t src = 0; src < b.conn.num_sources; ++src) {
            for (std::uint64_t syn = b.conn.row_offsets[src]; syn < b.conn.row_offsets[src + 1]; ++syn) {
                s.source.push_back(std::uint32_t(src));
                s.target.push_back(b.conn.targets[syn]);
                s.weight.push_back(from_fixed(b.weight_of(syn), format));
                s.delay_ms.push_back(double(b.delay_of(syn)) * dt_ms);
            }
            if (s.source.size() >= slice_synapses) {
                flush();
                if (stop && stop->load()) throw runtime_failure(file.string() + ": stopped by a signal");
            }
        }
        flush();
        if (csv) {
            csv->close();
            fs::rename(part, file);
        } else {
            h5->finish();
        }
    } catch (...) {
        std::error_code ec;
        if (h5) h5->discard();
        fs::remove(part, ec);
        throw;
    }
    return b.conn.row_offsets.empty() ? 0 : b.conn.row_offsets.back();
}

}  // namespace ifsim
