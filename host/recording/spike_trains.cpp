// read_spike_trains (spike_trains.hpp): both datasets of a population read whole, and checked.
#include "ifsim/spike_trains.hpp"

#include <algorithm>
#include <cmath>

#include "hdf5_util.hpp"
#include "ifsim/errors.hpp"
#include "ifsim/units.hpp"

namespace ifsim {
namespace {

template <class T>
std::vector<T> read_1d(hid_t set, hid_t mem_type, const std::string& what, const std::filesystem::path& file) {
    h5::handle space(h5::check_id(H5Dget_space(set), what, file));
    const hssize_t n = H5Sget_simple_extent_npoints(space.get());
    h5::check(n < 0 ? -1 : 0, what, file);
    std::vector<T> out(static_cast<std::size_t>(n));
    if (n > 0) h5::check(H5Dread(set, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), what, file);
    return out;
}

// The class of a dataset's stored type, and whether it is a signed integer.
struct stored_type {
    H5T_class_t type_class;
    bool signed_integer;
};
stored_type type_of(hid_t set, const std::string& what, const std::filesystem::path& file) {
    h5::handle type(h5::check_id(H5Dget_type(set), what, file));
    const H5T_class_t c = H5Tget_class(type.get());
    return {c, c == H5T_INTEGER && H5Tget_sign(type.get()) == H5T_SGN_2};
}

}  // namespace

std::vector<std::vector<double>> read_spike_trains(const std::filesystem::path& file, const std::string& population,
                                                   std::uint64_t num_neurons, double end_ms) {
    const std::string where = file.string() + ": population '" + population + "'";
    std::vector<double> t;
    std::vector<std::int64_t> signed_id;
    std::vector<std::uint64_t> id;
    {
        const h5::reading_lock guard(file);
        h5::handle f(H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
        if (!f) h5::fail("open the file", file);
        const std::string group_path = "/spikes/" + population;
        const htri_t exists = H5Lexists(f.get(), "/spikes", H5P_DEFAULT) > 0
                                  ? H5Lexists(f.get(), group_path.c_str(), H5P_DEFAULT)
                                  : 0;
        if (exists <= 0) throw runtime_failure(file.string() + ": no spikes of population '" + population + "' in it");
        h5::handle g(h5::check_id(H5Gopen2(f.get(), group_path.c_str(), H5P_DEFAULT), "open " + group_path, file));
        const std::string read_t = "read dataset 'timestamps'", read_id = "read dataset 'node_ids'";
        h5::handle ts(h5::check_id(H5Dopen2(g.get(), "timestamps", H5P_DEFAULT), read_t, file));
        h5::handle ids(h5::check_id(H5Dopen2(g.get(), "node_ids", H5P_DEFAULT), read_id, file));
        // Converted by HDF5 otherwise: a signed -1 would read as node 0, a text as garbage.
        if (type_of(ts.get(), read_t, file).type_class != H5T_FLOAT)
            throw runtime_failure(where + ": its timestamps are not floating-point numbers (SONATA: float64, ms)");
        if (H5Aexists(ts.get(), "units") > 0) {
            const auto units = h5::string_attribute(ts.get(), "units");
            if (!units)
                throw runtime_failure(where + ": its timestamps' units attribute is not one string (SONATA: \"ms\")");
            if (*units != "ms")
                throw runtime_failure(where + ": its timestamps are in '" + printable(*units) + "'; ifsim reads ms");
        }
        const stored_type id_type = type_of(ids.get(), read_id, file);
        if (id_type.type_class != H5T_INTEGER)
            throw runtime_failure(where + ": its node_ids are not integers (SONATA: uint64)");
        t = read_1d<double>(ts.get(), H5T_NATIVE_DOUBLE, read_t, file);
        if (id_type.signed_integer) signed_id = read_1d<std::int64_t>(ids.get(), H5T_NATIVE_INT64, read_id, file);
        else id = read_1d<std::uint64_t>(ids.get(), H5T_NATIVE_UINT64, read_id, file);
    }
    for (const std::int64_t i : signed_id) {
        if (i < 0) throw runtime_failure(where + " lists node " + std::to_string(i) + "; node ids are >= 0");
        id.push_back(std::uint64_t(i));
    }
    if (t.size() != id.size())
        throw runtime_failure(where + " has " + std::to_string(t.size()) + " timestamps but " +
                              std::to_string(id.size()) + " node ids");
    std::vector<std::vector<double>> trains(num_neurons);
    for (std::size_t k = 0; k < t.size(); ++k) {
        if (id[k] >= num_neurons)
            throw runtime_failure(where + " lists node " + std::to_string(id[k]) + "; it has " +
                                  std::to_string(num_neurons) + " neurons");
        if (!(t[k] >= 0.0 && t[k] <= end_ms))
            throw runtime_failure(where + " has a spike at " + format_number(t[k]) + " ms (node " +
                                  std::to_string(id[k]) + "), outside the run's 0 to " + format_number(end_ms) +
                                  " ms");
        trains[id[k]].push_back(t[k]);
    }
    for (auto& train : trains)
        if (!std::is_sorted(train.begin(), train.end())) std::sort(train.begin(), train.end());
    return trains;
}

}  // namespace ifsim
