/// Published sigma(G) fits, as polynomials sigma_uS = c0 + c1*G + c2*G^2 + ... with G in uS
/// (sources, ranges and conversions in docs/device.md, "Programming noise presets").
public enum PublishedFits {
    public static let coefficients: [String: [Double]] = [
        // Wan et al., Nature 2022 (NeuRRAM), Extended Data Fig. 3 at t = 1 s, cubic fit as in CrossSim's
        // RRAM_Wan.py: sigma = 1.053 + 0.2374 G - 1.167e-2 G^2 + 1.536e-4 G^3, valid for 0 <= G <= 39.26 uS.
        "neurram-wan2022": [1.053, 0.2374, -1.167e-2, 1.536e-4],
        // The same data as aihwkit's ReRamWan2022NoiseModel (t = 1 s): sigma = sum c_i x^i, x = G / 40 uS,
        // c = (0.348, 16.030, -43.853, 45.393, -16.815), rewritten in powers of G (c_i / 40^i).
        "neurram-wan2022-aihwkit": [0.348, 16.030 / 40, -43.853 / 1600, 45.393 / 64000, -16.815 / 2_560_000],
        // CMO/HfOx ReRAM (Falcone et al., arXiv 2502.04524; aihwkit ReRamCMONoiseModel, 2 % acceptance range):
        // sigma = 0.0112185391 + 0.01129027418 G, 8-90 uS.
        "hfox-cmo": [0.0112185391, 0.01129027418],
        // Same source, 0.2 % acceptance range: sigma = 0.00081107 + 0.00106879 G.
        "hfox-cmo-0.2pct": [0.00081107, 0.00106879],
        // Milo et al., IRPS 2021 (IGVVA-100), linear fit as in CrossSim's RRAM_Milo.py:
        // sigma = 4.782321 - 0.009107 G, for 50-225 uS.
        "crosssim-milo": [4.782321, -0.009107],
    ]
}
