// The emulated device's stand-in (../../cub_on_host.hpp).
#pragma once
#include "../../cub_on_host.hpp"
