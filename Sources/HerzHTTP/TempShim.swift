import HerzCore
func makeFilterFactories(_ c: [FilterConfig]) -> [HTTPFilterFactory] { [] }  // TEMP until filter factories land
