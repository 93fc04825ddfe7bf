import XbarCore
import XbarTarget

/// State-dependent programming noise sigma(G) in uS for G in uS: published presets and custom polynomials.
/// Sources and coefficients are tabulated in docs/device.md.
public enum SigmaModel {
    /// Preset names accepted in `device.sigma_preset`.
    public static let presets = ["none", "custom"] + PublishedFits.coefficients.keys.sorted()

    /// Coefficients (c0, c1, c2) of sigma = c0 + c1 G + c2 G^2, or nil for an unknown preset.
    public static func coefficients(_ s: SigmaSpec) -> [Double]? {
        switch s.preset {
        case "none": return [0]
        case "custom": return s.coefficients
        default: return PublishedFits.coefficients[s.preset]
        }
    }

    /// sigma(G) in uS, never negative.
    public static func sigmaUS(_ c: [Double], _ gUS: Double) -> Double {
        var v = 0.0
        var p = 1.0
        for k in c {
            v += k * p
            p *= gUS
        }
        return Swift.max(0, v)
    }
}
