// Reading back what ifsim's HDF5 writers wrote, for the tests of the recording and of the CLI.
#pragma once

#include <gtest/gtest.h>
#include <hdf5.h>

#include <stdexcept>
#include <string>

namespace ifsim::test {

// A scalar string attribute (variable or fixed length).
inline std::string string_attribute(hid_t file, const std::string& object, const std::string& name) {
    const hid_t attr = H5Aopen_by_name(file, object.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT);
    if (attr < 0) throw std::runtime_error("no attribute " + object + "@" + name);
    const hid_t type = H5Aget_type(attr);
    std::string value;
    EXPECT_EQ(H5Tget_class(type), H5T_STRING);
    if (H5Tis_variable_str(type) > 0) {
        char* text = nullptr;
        H5Aread(attr, type, &text);
        value = text ? text : "";
        H5free_memory(text);
    } else {
        value.resize(H5Tget_size(type));
        H5Aread(attr, type, value.data());
        value.resize(value.find('\0') == std::string::npos ? value.size() : value.find('\0'));
    }
    H5Tclose(type);
    H5Aclose(attr);
    return value;
}

}  // namespace ifsim::test
