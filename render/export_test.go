package render

// Recycle asks p's supervisor to replace its browser, as when the browser
// passes its memory ceiling, so that tests need no tiny ceiling.
func Recycle(p *Pool) { p.recycleNow <- struct{}{} }
