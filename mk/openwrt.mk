# OpenWrt cross builds and packages (being written).
