// read_spike_trains (spike_trains.hpp): both datasets of a population read whole.
#include "ifsim/spike_trains.hpp"

#include <algorithm>

#include "hdf5_util.hpp"
#include "ifsim/errors.hpp"

namespace ifsim {
namespace {

template <class T>
std::vector<T> read_1d(hid_t group, const char* name, hid_t mem_type, const std::filesystem::path& file) {
    const std::string what = std::string("read dataset '") + name + "'";
    h5::handle set(h5::check_id(H5Dopen2(group, name, H5P_DEFAULT), what, file));
    h5::handle space(h5::check_id(H5Dget_space(set.get()), what, file));
    const hssize_t n = H5Sget_simple_extent_npoints(space.get());
    h5::check(n < 0 ? -1 : 0, what, file);
    std::vector<T> out(static_cast<std::size_t>(n));
    if (n > 0) h5::check(H5Dread(set.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), what, file);
    return out;
}

}  // namespace

std::vector<std::vector<double>> read_spike_trains(const std::filesystem::path& file, const std::string& population,
                                                   std::uint64_t num_neurons) {
    std::vector<double> t;
    std::vector<std::uint64_t> id;
    {
        const auto guard = h5::lock();
        h5::handle f(H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
        if (!f) h5::fail("open the file", file);
        const std::string group_path = "/spikes/" + population;
        const htri_t exists = H5Lexists(f.get(), "/spikes", H5P_DEFAULT) > 0
                                  ? H5Lexists(f.get(), group_path.c_str(), H5P_DEFAULT)
                                  : 0;
        if (exists <= 0) throw runtime_failure(file.string() + ": no spikes of population '" + population + "' in it");
        h5::handle g(h5::check_id(H5Gopen2(f.get(), group_path.c_str(), H5P_DEFAULT), "open " + group_path, file));
        t = read_1d<double>(g.get(), "timestamps", H5T_NATIVE_DOUBLE, file);
        id = read_1d<std::uint64_t>(g.get(), "node_ids", H5T_NATIVE_UINT64, file);
    }
    if (t.size() != id.size())
        throw runtime_failure(file.string() + ": population '" + population + "' has " + std::to_string(t.size()) +
                              " timestamps but " + std::to_string(id.size()) + " node ids");
    std::vector<std::vector<double>> trains(num_neurons);
    for (std::size_t k = 0; k < t.size(); ++k) {
        if (id[k] >= num_neurons)
            throw runtime_failure(file.string() + ": population '" + population + "' lists node " +
                                  std::to_string(id[k]) + "; it has " + std::to_string(num_neurons) + " neurons");
        trains[id[k]].push_back(t[k]);
    }
    for (auto& train : trains)
        if (!std::is_sorted(train.begin(), train.end())) std::sort(train.begin(), train.end());
    return trains;
}

}  // namespace ifsim
